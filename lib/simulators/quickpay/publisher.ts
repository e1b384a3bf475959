// The simulator's scripted stream: exchange rates on private-exchange-rate with the documented
// fields [doc], a heartbeat on test-channel, and payment status walks on
// private-payments.<merchant>. QuickPay does not document the WS payment or notification
// events, so their names are options and their data borrows the webhook objects' fields
// [inferred].

export interface PublisherOptions {
  merchantId: string;
  /** 0 = no rate or test-channel events. */
  rateIntervalMs: number;
  /** 0 = no payment walks. */
  paymentIntervalMs: number;
  paymentEvent: string;
  notificationEvent: string;
  publish(channel: string, event: string, data: unknown): number;
  hasSubscribers(channel: string): boolean;
}

export const RATE_CHANNEL = 'private-exchange-rate';
export const RATE_EVENT = 'exchange.rate.updated';
export const TEST_CHANNEL = 'test-channel';
export const TEST_EVENT = 'test-event';
/** How long a simulated crypto payment stays payable. */
const PAYMENT_TTL_MS = 15 * 60 * 1000;

type WalkStatus = 'pending' | 'processing' | 'completed' | 'failed' | 'expired';

interface Walk {
  paymentId: string;
  createdAt: number;
  step: number;
  statuses: WalkStatus[];
}

export class Publisher {
  private readonly timers: NodeJS.Timeout[] = [];
  private rateTick = 0;
  private payments = 0;
  private notifications = 0;
  private walk?: Walk;

  constructor(private readonly opts: PublisherOptions) {}

  get paymentsChannel(): string {
    return `private-payments.${this.opts.merchantId}`;
  }

  get notificationsChannel(): string {
    return `private-notifications.${this.opts.merchantId}`;
  }

  start(): void {
    if (this.opts.rateIntervalMs > 0) this.every(this.opts.rateIntervalMs, () => this.publishRate());
    if (this.opts.paymentIntervalMs > 0) this.every(this.opts.paymentIntervalMs, () => this.stepWalk());
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  /** One payment status event; a new payment_id unless `extra` names one. */
  publishPayment(status: string, extra: Record<string, unknown> = {}): number {
    const paymentId = typeof extra.payment_id === 'string' ? extra.payment_id : this.newPaymentId();
    return this.opts.publish(this.paymentsChannel, this.opts.paymentEvent, { ...paymentData(paymentId, status, Date.now()), ...extra });
  }

  publishNotification(level: string, title: string, message: string): number {
    this.notifications += 1;
    return this.opts.publish(this.notificationsChannel, this.opts.notificationEvent, {
      notification_id: `ntf_${this.notifications}`, level, title, message, timestamp: unixNow(),
    });
  }

  private every(ms: number, tick: () => void): void {
    const t = setInterval(tick, ms);
    t.unref();
    this.timers.push(t);
  }

  private publishRate(): void {
    this.rateTick += 1;
    // A deterministic wobble between 1.0000 and 1.0010, so consecutive events differ.
    const rate = Math.round((1 + ((this.rateTick * 7) % 11) / 10_000) * 10_000) / 10_000;
    this.opts.publish(RATE_CHANNEL, RATE_EVENT, { fiatCurrency: 'USD', cryptoCurrency: 'USDT', rate, timestamp: unixNow() });
    this.opts.publish(TEST_CHANNEL, TEST_EVENT, { message: 'hello', timestamp: unixNow() });
  }

  private stepWalk(): void {
    // A walk waits for a listener, so whoever subscribes sees it from its first status.
    if (!this.walk && !this.opts.hasSubscribers(this.paymentsChannel)) return;
    const walk = (this.walk ??= this.newWalk());
    const status = walk.statuses[walk.step] as WalkStatus;
    this.opts.publish(this.paymentsChannel, this.opts.paymentEvent, paymentData(walk.paymentId, status, walk.createdAt));
    walk.step += 1;
    if (walk.step < walk.statuses.length) return;
    this.walk = undefined;
    this.publishNotification(status === 'completed' ? 'info' : 'warning', `Payment ${status}`, `Payment ${walk.paymentId} ${status}`);
  }

  private newWalk(): Walk {
    const paymentId = this.newPaymentId();
    const n = this.payments;
    // Every third walk ends badly, alternating failed and expired.
    const last: WalkStatus = n % 3 !== 0 ? 'completed' : (n / 3) % 2 === 1 ? 'failed' : 'expired';
    return { paymentId, createdAt: Date.now(), step: 0, statuses: ['pending', 'processing', last] };
  }

  private newPaymentId(): string {
    this.payments += 1;
    return `pay_${this.payments}`;
  }
}

function paymentData(paymentId: string, status: string, createdAt: number): Record<string, unknown> {
  return {
    payment_id: paymentId,
    amount: '12.50',
    currency: 'USD',
    status,
    payment_method: 'crypto',
    crypto_currency: 'USDT',
    exchange_rate: '1.0002',
    fiat_amount: '12.50',
    crypto_amount: '12.497',
    expires_at: new Date(createdAt + PAYMENT_TTL_MS).toISOString(),
    updated_at: new Date().toISOString(),
  };
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
