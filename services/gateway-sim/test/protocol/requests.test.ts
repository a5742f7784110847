import {
  BarSizeSetting,
  FADataType,
  LogLevel,
  OrderAction,
  OrderType,
  ScanCode,
  SecType,
  TickByTickDataType,
  TimeInForce,
  WhatToShow,
  WshEventData,
} from '@stoqey/ib';
import type { Encoder } from '@stoqey/ib/dist/core/io/encoder';

import { decodeRequest, UNSUPPORTED_REQUEST_ID_FIELD } from '../../src/protocol/requests';
import { encodeWithClient } from '../support/client-encoder';

const EUR_CAD = { symbol: 'EUR', secType: SecType.CASH, currency: 'CAD', exchange: 'IDEALPRO' };

describe.each([176, 193])('request decoding at server version %i', (serverVersion) => {
  const decode = (frames: string[][]) => frames.map((fields) => decodeRequest(fields, serverVersion));

  it('reads placeOrder from the fields @stoqey/ib sends, with transmit left unset', () => {
    const frames = encodeWithClient(serverVersion, (encoder) =>
      encoder.placeOrder(12, EUR_CAD, {
        action: OrderAction.BUY,
        orderType: OrderType.LMT,
        totalQuantity: 20000,
        lmtPrice: 1.45,
        tif: TimeInForce.GTC,
        orderRef: 'intent-abc',
      }),
    );
    expect(frames[0]).toHaveLength(serverVersion === 176 ? 115 : 118);
    const [request] = decode(frames);
    expect(request).toMatchObject({
      type: 'placeOrder',
      order: {
        orderId: 12,
        contract: { symbol: 'EUR', secType: 'CASH', currency: 'CAD', exchange: 'IDEALPRO' },
        action: 'BUY',
        totalQuantity: 20000,
        orderType: 'LMT',
        lmtPrice: 1.45,
        auxPrice: undefined,
        tif: 'GTC',
        orderRef: 'intent-abc',
        transmit: undefined,
        outsideRth: false,
      },
    });
  });

  it('reads an explicit transmit flag and a stop price', () => {
    const frames = encodeWithClient(serverVersion, (encoder) =>
      encoder.placeOrder(13, EUR_CAD, {
        action: OrderAction.SELL,
        orderType: OrderType.STP,
        totalQuantity: 5000,
        auxPrice: 1.4,
        transmit: true,
        outsideRth: true,
      }),
    );
    expect(decode(frames)[0]).toMatchObject({
      type: 'placeOrder',
      order: {
        action: 'SELL',
        orderType: 'STP',
        auxPrice: 1.4,
        lmtPrice: undefined,
        transmit: true,
        outsideRth: true,
      },
    });
  });

  it('reads cancelOrder in the layout of the version (no version field from 192 on)', () => {
    const frames = encodeWithClient(serverVersion, (encoder) =>
      encoder.cancelOrder(77, { manualOrderCancelTime: '' }),
    );
    expect(decode(frames)).toEqual([{ type: 'cancelOrder', orderId: 77 }]);
  });

  it('reads market data, historical data, real-time bars and contract detail requests', () => {
    const frames = encodeWithClient(serverVersion, (encoder) => {
      encoder.reqMktData(4, EUR_CAD, '', false, false);
      encoder.reqHistoricalData(
        5,
        EUR_CAD,
        '',
        '1 D',
        BarSizeSetting.MINUTES_FIVE,
        'MIDPOINT',
        1,
        2,
        true,
        [],
      );
      encoder.reqRealTimeBars(6, EUR_CAD, 5, 'MIDPOINT', false, []);
      encoder.reqContractDetails(7, EUR_CAD);
    });
    expect(decode(frames)).toMatchObject([
      { type: 'reqMktData', reqId: 4, snapshot: false, contract: { symbol: 'EUR' } },
      {
        type: 'reqHistoricalData',
        reqId: 5,
        endDateTime: '',
        barSize: '5 mins',
        duration: '1 D',
        useRth: true,
        whatToShow: 'MIDPOINT',
        formatDate: 2,
        keepUpToDate: true,
      },
      { type: 'reqRealTimeBars', reqId: 6, barSize: 5, whatToShow: 'MIDPOINT', useRth: false },
      { type: 'reqContractDetails', reqId: 7 },
    ]);
  });

  it('reads an execution filter with unset fields as no filter', () => {
    const frames = encodeWithClient(serverVersion, (encoder) =>
      encoder.reqExecutions(9, { symbol: 'EUR', side: 'BUY' }),
    );
    expect(decode(frames)).toEqual([
      {
        type: 'reqExecutions',
        reqId: 9,
        filter: {
          clientId: undefined,
          account: '',
          time: '',
          symbol: 'EUR',
          secType: '',
          exchange: '',
          side: 'BUY',
        },
      },
    ]);
  });

  it('reads startApi with an empty client id as client 0', () => {
    expect(decodeRequest(['71', '2', '', ''], serverVersion)).toEqual({
      type: 'startApi',
      clientId: 0,
      optionalCapabilities: '',
    });
  });

  it('tells unknown message ids from known ones the simulator does not serve', () => {
    expect(decodeRequest(['999', '1'], serverVersion)).toEqual({ type: 'unknown', messageId: 999 });
    expect(decodeRequest(['92', '7', 'DU1', ''], serverVersion)).toEqual({
      type: 'unsupported',
      messageId: 92,
      reqId: 7,
    });
  });

  it('raises on a frame that ends too early or carries garbage where a number belongs', () => {
    expect(() => decodeRequest(['62', '1', '5'], serverVersion)).toThrow(/ends after/);
    expect(() => decodeRequest(['2', '1', 'abc'], serverVersion)).toThrow(/not an integer/);
  });
});

describe('the id of a 321 for requests the simulator does not serve', () => {
  const REQ_ID = 424242;
  const IBM = { symbol: 'IBM', secType: SecType.STK, currency: 'USD', exchange: 'SMART', conId: 8314 };
  /** Every unsupported request, sent by `@stoqey/ib`'s encoder with REQ_ID wherever it takes a request id. */
  const calls: Array<[string, (encoder: Encoder) => void]> = [
    ['reqMktDepth', (e) => e.reqMktDepth(REQ_ID, IBM, 5, false, [])],
    ['cancelMktDepth', (e) => e.cancelMktDepth(REQ_ID, false)],
    ['reqNewsBulletins', (e) => e.reqNewsBulletins(true)],
    ['cancelNewsBulletins', (e) => e.cancelNewsBulletins()],
    ['setServerLogLevel', (e) => e.setServerLogLevel(LogLevel.SYSTEM)],
    ['requestFA', (e) => e.requestFA(FADataType.GROUPS)],
    ['replaceFA', (e) => e.replaceFA(REQ_ID, FADataType.GROUPS, '<x/>')],
    ['exerciseOptions', (e) => e.exerciseOptions(REQ_ID, IBM, 1, 1, 'DU1', 0)],
    [
      'reqScannerSubscription',
      (e) => e.reqScannerSubscription(REQ_ID, { numberOfRows: 7, scanCode: ScanCode.TOP_PERC_GAIN }, [], []),
    ],
    ['cancelScannerSubscription', (e) => e.cancelScannerSubscription(REQ_ID)],
    ['reqScannerParameters', (e) => e.reqScannerParameters()],
    ['reqFundamentalData', (e) => e.reqFundamentalData(REQ_ID, IBM, 'ReportsFinSummary', [])],
    ['cancelFundamentalData', (e) => e.cancelFundamentalData(REQ_ID)],
    ['calculateImpliedVolatility', (e) => e.calculateImpliedVolatility(REQ_ID, IBM, 1, 1, [])],
    ['calculateOptionPrice', (e) => e.calculateOptionPrice(REQ_ID, IBM, 1, 1, [])],
    ['cancelCalculateImpliedVolatility', (e) => e.cancelCalculateImpliedVolatility(REQ_ID)],
    ['cancelCalculateOptionPrice', (e) => e.cancelCalculateOptionPrice(REQ_ID)],
    ['queryDisplayGroups', (e) => e.queryDisplayGroups(REQ_ID)],
    ['subscribeToGroupEvents', (e) => e.subscribeToGroupEvents(REQ_ID, 3)],
    ['updateDisplayGroup', (e) => e.updateDisplayGroup(REQ_ID, '8314@SMART')],
    ['unsubscribeToGroupEvents', (e) => e.unsubscribeToGroupEvents(REQ_ID)],
    ['reqPositionsMulti', (e) => e.reqPositionsMulti(REQ_ID, 'DU1', '')],
    ['cancelPositionsMulti', (e) => e.cancelPositionsMulti(REQ_ID)],
    ['reqAccountUpdatesMulti', (e) => e.reqAccountUpdatesMulti(REQ_ID, 'DU1', '', true)],
    ['cancelAccountUpdatesMulti', (e) => e.cancelAccountUpdatesMulti(REQ_ID)],
    ['reqSecDefOptParams', (e) => e.reqSecDefOptParams(REQ_ID, 'IBM', '', SecType.STK, 8314)],
    ['reqSoftDollarTiers', (e) => e.reqSoftDollarTiers(REQ_ID)],
    ['reqFamilyCodes', (e) => e.reqFamilyCodes()],
    ['reqMatchingSymbols', (e) => e.reqMatchingSymbols(REQ_ID, 'IB')],
    ['reqMktDepthExchanges', (e) => e.reqMktDepthExchanges()],
    ['reqSmartComponents', (e) => e.reqSmartComponents(REQ_ID, 'a6')],
    ['reqNewsArticle', (e) => e.reqNewsArticle(REQ_ID, 'BZ', 'x', [])],
    ['reqNewsProviders', (e) => e.reqNewsProviders()],
    ['reqHistoricalNews', (e) => e.reqHistoricalNews(REQ_ID, 8314, 'BZ', '', '', 10, [])],
    ['reqHeadTimestamp', (e) => e.reqHeadTimestamp(REQ_ID, IBM, WhatToShow.BID, false, 1)],
    ['reqHistogramData', (e) => e.reqHistogramData(REQ_ID, IBM, false, '1 week')],
    ['cancelHistogramData', (e) => e.cancelHistogramData(REQ_ID)],
    ['cancelHeadTimestamp', (e) => e.cancelHeadTimestamp(REQ_ID)],
    ['reqMarketRule', (e) => e.reqMarketRule(26)],
    ['reqPnL', (e) => e.reqPnL(REQ_ID, 'DU1', '')],
    ['cancelPnL', (e) => e.cancelPnL(REQ_ID)],
    ['reqPnLSingle', (e) => e.reqPnLSingle(REQ_ID, 'DU1', '', 8314)],
    ['cancelPnLSingle', (e) => e.cancelPnLSingle(REQ_ID)],
    [
      'reqHistoricalTicks',
      (e) => e.reqHistoricalTicks(REQ_ID, IBM, '', '20260303 10:00:00', 10, WhatToShow.BID_ASK, 0, false, []),
    ],
    ['reqTickByTickData', (e) => e.reqTickByTickData(REQ_ID, IBM, TickByTickDataType.BidAsk, 0, false)],
    ['cancelTickByTickData', (e) => e.cancelTickByTickData(REQ_ID)],
    ['reqWshMetaData', (e) => e.reqWshMetaData(REQ_ID)],
    ['reqCancelWshMetaData', (e) => e.reqCancelWshMetaData(REQ_ID)],
    ['reqWshEventData', (e) => e.reqWshEventData(REQ_ID, new WshEventData(8314))],
    ['reqCancelWshEventData', (e) => e.reqCancelWshEventData(REQ_ID)],
    ['reqUserInfo', (e) => e.reqUserInfo(REQ_ID)],
  ];

  it.each([176, 193])(
    'takes the request id from the field each request keeps it in (server version %i)',
    (version) => {
      const seen = new Set<number>();
      for (const [name, call] of calls) {
        const [frame] = encodeWithClient(version, call);
        const request = decodeRequest(frame!, version);
        const takesId = frame!.includes(String(REQ_ID));
        expect({ name, request }).toEqual({
          name,
          request: { type: 'unsupported', messageId: Number(frame![0]), reqId: takesId ? REQ_ID : undefined },
        });
        seen.add(Number(frame![0]));
      }
      // The table covers exactly the requests the client can send and the simulator does not serve.
      const table = Object.keys(UNSUPPORTED_REQUEST_ID_FIELD).map(Number);
      expect([...seen].sort((a, b) => a - b)).toEqual(table.filter((id) => ![65, 66, 72, 73].includes(id)));
    },
  );

  it('answers ids the client never sends as unknown, and a request without an id on −1', () => {
    expect(decodeRequest(['30', '1', '5'], 176)).toEqual({ type: 'unknown', messageId: 30 });
    expect(decodeRequest(['80', '1'], 176)).toEqual({ type: 'unsupported', messageId: 80, reqId: undefined });
    expect(decodeRequest(['99', '1'], 176)).toEqual({ type: 'reqCompletedOrders', apiOnly: true });
    expect(decodeRequest(['22', '9', '20'], 176)).toMatchObject({ reqId: 9 });
  });
});
