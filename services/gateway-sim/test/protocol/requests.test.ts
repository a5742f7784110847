import { BarSizeSetting, OrderAction, OrderType, SecType, TimeInForce } from '@stoqey/ib';

import { decodeRequest } from '../../src/protocol/requests';
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
