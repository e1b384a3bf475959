// pos-notification-in for every provider: one approved payment is seen as provider events in
// the documented shape.

import assert from 'node:assert/strict';
import { allStatuses, forEachProvider, sleep, until, type Conformance } from './fixture';

const EVENT_KEYS = ['provider', 'event', 'reference', 'terminalId', 'channel', 'data', 'receivedAt'];

forEachProvider('notifications', (c: Conformance) => {
  it('an approved payment (or, where there are no payments, a provider event) reaches notification in', async () => {
    const { results, events } = await c.load();
    const reference = c.ref('events');
    const payments = c.entry.capabilities.pay;
    if (payments) {
      const paid = await c.send('pay', c.payment(c.amounts.approved, reference), results);
      assert.equal(paid.payload.outcome, 'approved');
    } else {
      assert.ok(c.handle.emitEvent, 'a provider without payments can be made to send an event');
      c.handle.emitEvent();
    }
    if (!c.entry.capabilities.notifications) {
      await sleep(300);
      assert.equal(events.length, 0);
      assert.ok(allStatuses('events').some((s) => s.fill === 'red'), 'the node says it cannot');
      return;
    }
    const wanted = c.entry.notificationOfPayment;
    await until(() => events.some((m) => wanted.includes(m.payload?.event)), `one of ${wanted.join(', ')}`, 10000);
    for (const m of events) {
      const p = m.payload as Record<string, unknown>;
      assert.equal(m.topic, p.event);
      assert.deepEqual(Object.keys(p).filter((k) => !EVENT_KEYS.includes(k)), [], 'keys outside the documented shape');
      for (const k of ['provider', 'event', 'data', 'receivedAt']) assert.ok(k in p, `${k} present`);
      assert.equal(p.provider, c.entry.provider);
      assert.equal(typeof p.event, 'string');
      assert.ok((p.event as string).length > 0);
      assert.equal(new Date(p.receivedAt as string).toISOString(), p.receivedAt, 'receivedAt is ISO 8601');
      // Only this payment ran, so any event naming a payment names this one.
      if (payments && 'reference' in p) assert.equal(p.reference, reference);
      for (const k of ['terminalId', 'channel']) if (k in p) assert.equal(typeof p[k], 'string');
    }
    if (payments && c.entry.notificationsCarryReference) assert.ok(events.some((m) => m.payload.reference === reference), 'events are linked to the payment');
  });
});
