import { paymentNode } from './shared/payment-node';
import type { RedApi } from './shared/red';

export = function (RED: RedApi): void {
  RED.nodes.registerType('pos-refund', paymentNode(RED, 'refund'));
};
