// Provider events into the flow: msg.topic is the event name, msg.payload the normalised event.

import type { NotificationEvent } from '../lib/core/types';
import { bindFlowNode, type FlowNodeConfig } from './shared/flow-node';
import type { Node, RedApi } from './shared/red';

interface NotificationConfig extends FlowNodeConfig {
  /** Comma-separated event names to pass; empty passes every event. */
  events?: string;
}

export = function (RED: RedApi): void {
  RED.nodes.registerType('pos-notification-in', function (this: Node, config: NotificationConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const binding = bindFlowNode(RED, node, config, 'notifications');
    const wanted = new Set(String(config.events ?? '').split(',').map((e) => e.trim().toLowerCase()).filter(Boolean));
    // Subscribe only where the provider has notifications; otherwise the status already says why.
    let connection;
    try {
      connection = binding.require('notifications');
    } catch {
      connection = undefined;
    }
    const off = connection?.onNotification((event: NotificationEvent) => {
      if (wanted.size > 0 && !wanted.has(event.event)) return;
      node.send({ topic: event.event, payload: event });
    });
    node.on('close', (_removed: boolean, done: () => void) => {
      off?.();
      done();
    });
  });
};
