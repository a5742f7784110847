import { SleeveBook } from '@ibstack/strategy';

const rates = { USD: '1', CAD: '0.5' };
const prices = new Map([['EURCAD', '1.6']]);
const currencies = new Map([['EURCAD', 'CAD']]);

function fill(execId: string, side: 'BUY' | 'SELL', quantity: string, price: string, intentId?: string) {
  return { execId, sleeve: 'demo', instrument: 'EURCAD', side, quantity, price, intentId };
}

describe('sleeve book: fills', () => {
  it('counts each execution once and replaces a corrected one', () => {
    const book = new SleeveBook();
    expect(book.applyFill(fill('0001.aa.01.01', 'BUY', '1000', '1.5'))).toBe(true);
    expect(book.applyFill(fill('0001.aa.01.01', 'BUY', '1000', '1.5'))).toBe(false);
    expect(book.position('demo', 'EURCAD').toFixed()).toBe('1000');
    // IB corrects the execution: same id up to the last dot, higher revision.
    expect(book.applyFill(fill('0001.aa.01.02', 'BUY', '800', '1.5'))).toBe(true);
    expect(book.position('demo', 'EURCAD').toFixed()).toBe('800');
    // The original arriving late changes nothing.
    expect(book.applyFill(fill('0001.aa.01.01', 'BUY', '1000', '1.5'))).toBe(false);
    expect(book.position('demo', 'EURCAD').toFixed()).toBe('800');
  });

  it('values exposure and P&L in USD, less commissions', () => {
    const book = new SleeveBook();
    book.applyFill({ ...fill('e1', 'BUY', '1000', '1.5'), commission: '2', commissionCurrency: 'USD' });
    book.applyFill(fill('e2', 'SELL', '400', '1.7'));
    // Long 600 at 1.6 CAD = 960 CAD = 480 USD. Cash: −1500 + 680 = −820 CAD; P&L = (−820 + 960) × 0.5 − 2.
    const figures = book.figures('demo', prices, currencies, rates);
    expect(figures.grossExposureUsd.toFixed()).toBe('480');
    expect(figures.netExposureUsd.toFixed()).toBe('480');
    expect(figures.pnlUsd.toFixed()).toBe('68');
  });

  it('takes a commission published after its fill without counting the fill twice', () => {
    const book = new SleeveBook();
    expect(book.applyFill(fill('e1', 'BUY', '1000', '1.5'))).toBe(true);
    // The correction: the same execution again, now with its commission.
    expect(
      book.applyFill({ ...fill('e1', 'BUY', '1000', '1.5'), commission: '2', commissionCurrency: 'USD' }),
    ).toBe(false);
    expect(book.position('demo', 'EURCAD').toFixed()).toBe('1000');
    // Long 1000 at 1.6 CAD; cash −1500 CAD: P&L = 100 CAD × 0.5 − 2 USD.
    expect(book.figures('demo', prices, currencies, rates).pnlUsd.toFixed()).toBe('48');
  });
});

describe('sleeve book: orders in flight', () => {
  it('keeps the buys and the sells in flight apart', () => {
    const book = new SleeveBook();
    book.addPending('b1', { sleeve: 'demo', instrument: 'EURCAD', side: 'BUY', quantity: '1000' }, 0);
    book.addPending('s1', { sleeve: 'demo', instrument: 'EURCAD', side: 'SELL', quantity: '700' }, 0);
    const sides = () => {
      const { buy, sell } = book.pendingSides('demo', 'EURCAD');
      return [buy.toFixed(), sell.toFixed(), book.pendingQuantity('demo', 'EURCAD').toFixed()];
    };
    expect(sides()).toEqual(['1000', '700', '300']);
    book.applyFill(fill('e1', 'SELL', '200', '1.5', 's1'));
    expect(sides()).toEqual(['1000', '500', '500']);
    book.applyOrderEvent('b1', 'cancelled', '0');
    expect(sides()).toEqual(['0', '500', '-500']);
    book.applyFill(fill('e2', 'SELL', '500', '1.5', 's1'));
    expect(sides()).toEqual(['0', '0', '0']);
    book.addPending('s2', { sleeve: 'demo', instrument: 'EURCAD', side: 'SELL', quantity: '50' }, 0);
    expect(sides()).toEqual(['0', '50', '-50']);
    const none = book.pendingSides('demo', 'AAPL');
    expect([none.buy.toFixed(), none.sell.toFixed()]).toEqual(['0', '0']);
  });

  it('counts an accepted intent until it is filled', () => {
    const book = new SleeveBook();
    book.addPending('i1', { sleeve: 'demo', instrument: 'EURCAD', side: 'SELL', quantity: '1000' }, 0);
    expect(book.pendingQuantity('demo', 'EURCAD').toFixed()).toBe('-1000');
    book.applyFill(fill('e1', 'SELL', '400', '1.5', 'i1'));
    expect(book.pendingQuantity('demo', 'EURCAD').toFixed()).toBe('-600');
    expect(book.position('demo', 'EURCAD').toFixed()).toBe('-400');
    book.applyFill(fill('e2', 'SELL', '600', '1.5', 'i1'));
    expect(book.pendingQuantity('demo', 'EURCAD').toFixed()).toBe('0');
    expect(book.pendingCount('demo')).toBe(0);
  });

  it('after a terminal event keeps only the fills the event reported but the book has not seen', () => {
    const book = new SleeveBook();
    book.addPending('i1', { sleeve: 'demo', instrument: 'EURCAD', side: 'BUY', quantity: '1000' }, 0);
    // Cancelled after 300 filled; that fill has not arrived yet.
    expect(book.applyOrderEvent('i1', 'cancelled', '300')).toBe(true);
    expect(book.pendingQuantity('demo', 'EURCAD').toFixed()).toBe('300');
    book.applyFill(fill('e1', 'BUY', '300', '1.5', 'i1'));
    expect(book.pendingCount('demo')).toBe(0);
    expect(book.position('demo', 'EURCAD').toFixed()).toBe('300');
    expect(book.applyOrderEvent('unknown', 'filled', '1')).toBe(false);
  });

  it('forgets intents execution never acknowledged, but not acknowledged ones', () => {
    const book = new SleeveBook();
    book.addPending('quiet', { sleeve: 'demo', instrument: 'EURCAD', side: 'BUY', quantity: '1' }, 0);
    book.addPending('seen', { sleeve: 'demo', instrument: 'EURCAD', side: 'BUY', quantity: '1' }, 0);
    book.applyOrderEvent('seen', 'submitted', '0');
    expect(book.expireUnacknowledged(10_000, 5_000)).toEqual(['quiet']);
    expect(book.pendingQuantity('demo', 'EURCAD').toFixed()).toBe('1');
  });

  it('keeps each sleeve and instrument total right through fills, corrections, terminal events and removals', () => {
    const book = new SleeveBook();
    const add = (id: string, side: 'BUY' | 'SELL', quantity: string, sleeve = 'demo') =>
      book.addPending(id, { sleeve, instrument: 'EURCAD', side, quantity }, 0);
    add('b1', 'BUY', '1000');
    add('b2', 'BUY', '500');
    add('s1', 'SELL', '300');
    add('other', 'BUY', '7', 'other');
    expect(book.pendingQuantity('demo', 'EURCAD').toFixed()).toBe('1200');
    book.applyFill(fill('e1.01', 'BUY', '400', '1.5', 'b1'));
    expect(book.pendingQuantity('demo', 'EURCAD').toFixed()).toBe('800');
    // A correction replaces what the corrected fill contributed, in flight as in the position.
    book.applyFill(fill('e1.02', 'BUY', '250', '1.5', 'b1'));
    expect(book.pendingQuantity('demo', 'EURCAD').toFixed()).toBe('950');
    book.applyOrderEvent('b2', 'cancelled', '0');
    expect(book.pendingQuantity('demo', 'EURCAD').toFixed()).toBe('450');
    book.removePending('s1');
    expect(book.pendingQuantity('demo', 'EURCAD').toFixed()).toBe('750');
    // Filling more than ordered leaves nothing in flight, not a negative remainder.
    book.applyFill(fill('e2', 'BUY', '900', '1.5', 'b1'));
    expect(book.pendingQuantity('demo', 'EURCAD').toFixed()).toBe('0');
    expect(book.pendingCount('demo')).toBe(0);
    add('s2', 'SELL', '100');
    expect(book.pendingQuantity('demo', 'EURCAD').toFixed()).toBe('-100');
    expect(book.pendingQuantity('other', 'EURCAD').toFixed()).toBe('7');
    expect(book.pendingQuantity('demo', 'AAPL').toFixed()).toBe('0');
  });
});
