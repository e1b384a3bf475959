// Issue 13: a request-in node closed without being removed (a "modified nodes" deploy starts it
// again at once) does not make the provider re-register its methods; a removed one does.

import assert from 'node:assert/strict';
import { RequestRouter } from '../../nodes/shared/request-router';

function recordingServer() {
  const told: string[][] = [];
  return { told, server: { methods: ['SearchOrdersV1', 'GetOrderByIdV1'], serve: (m: ReadonlySet<string>) => { told.push([...m].sort()); } } };
}

describe('request router: partial deploys', () => {
  const handle = async () => ({});

  it('a node restarted by a partial deploy: the served set is not told again', () => {
    const { told, server } = recordingServer();
    const router = new RequestRouter(server);
    const leave = router.add({ id: 'in', method: 'GetOrderByIdV1', handle });
    leave(false);
    router.add({ id: 'in', method: 'GetOrderByIdV1', handle });
    assert.deepEqual(told, [['GetOrderByIdV1']]);
    router.close();
  });

  it('a removed node: its method leaves the served set at once', () => {
    const { told, server } = recordingServer();
    const router = new RequestRouter(server);
    const leave = router.add({ id: 'in', method: 'GetOrderByIdV1', handle });
    leave(true);
    assert.deepEqual(told, [['GetOrderByIdV1'], []]);
    router.close();
  });

  it('a node that closed without being removed and never came back leaves the served set later', async () => {
    const { told, server } = recordingServer();
    const router = new RequestRouter(server);
    const leave = router.add({ id: 'in', method: 'GetOrderByIdV1', handle });
    const real = global.setTimeout;
    let fire: (() => void) | undefined;
    (global as { setTimeout: unknown }).setTimeout = (fn: () => void) => { fire = fn; return real(() => {}, 0); };
    try {
      leave(false);
    } finally {
      global.setTimeout = real;
    }
    assert.deepEqual(told, [['GetOrderByIdV1']], 'not at once');
    fire!();
    assert.deepEqual(told, [['GetOrderByIdV1'], []]);
    router.close();
  });
});
