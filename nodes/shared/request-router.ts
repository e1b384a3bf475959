// Which pos-request-in node answers which inbound method. One router per connection: nodes
// join and leave on deploy, and the provider is told the served set after every change (one
// that registers capabilities re-registers them). An exact method beats `*`; `*` takes every method no other
// node took, like a default route.

import { PosError } from '../../lib/core/errors';
import type { InboundHandler, InboundRequest, RequestLink, RequestServer } from '../../lib/core/inbound';

export const ANY_METHOD = '*';

export interface RequestUser {
  /** The node id; one method per node. */
  id: string;
  /** A method as the provider spells it, or `*`. */
  method: string;
  handle: InboundHandler;
}

/**
 * How long a request-in node that closed without being removed (a partial deploy starts it
 * again at once) keeps its method in the served set, so the provider is not told twice.
 */
const LINGER_MS = 5000;

export class RequestRouter {
  private readonly users = new Map<string, RequestUser>();
  private publishTimer: NodeJS.Timeout | undefined;
  /** The served set last told to the provider, so an unchanged one is not told again (a provider may PUT its capabilities each time). */
  private published: string | undefined;

  constructor(private readonly server: RequestServer) {}

  get methods(): readonly string[] {
    return this.server.methods;
  }

  /** Why no request can be served (e.g. pay at table is off); undefined when they can. */
  get unavailable(): string | undefined {
    return this.server.unavailable;
  }

  get link(): RequestLink | undefined {
    return this.server.link;
  }

  /**
   * Throws a PosError a person can act on when the method is unknown or already taken. The
   * returned leave() takes Node-RED's `removed` flag: false, the served set is told later.
   */
  add(user: RequestUser): (removed?: boolean) => void {
    if (this.server.unavailable) throw new PosError('capability_missing', this.server.unavailable);
    if (user.method !== ANY_METHOD && !this.server.methods.includes(user.method)) {
      throw new PosError('bad_input', `"${user.method}" is not a method this provider sends; choose one of ${this.server.methods.join(', ')} or *`);
    }
    for (const other of this.users.values()) {
      if (other.id !== user.id && other.method === user.method) {
        throw new PosError('bad_input', `${user.method} is already answered by another request-in node (${other.id}); each method needs exactly one`);
      }
    }
    this.users.set(user.id, user);
    this.publish();
    return (removed = true) => {
      if (this.users.get(user.id) !== user) return;
      this.users.delete(user.id);
      if (removed) {
        this.publish();
        return;
      }
      clearTimeout(this.publishTimer);
      this.publishTimer = setTimeout(() => this.publish(), LINGER_MS);
      this.publishTimer.unref();
    };
  }

  /** The connection closes: nothing of ours stays behind. */
  close(): void {
    clearTimeout(this.publishTimer);
    this.publishTimer = undefined;
  }

  private route(method: string): RequestUser | undefined {
    let fallback: RequestUser | undefined;
    for (const user of this.users.values()) {
      if (user.method === method) return user;
      if (user.method === ANY_METHOD) fallback = user;
    }
    return fallback;
  }

  private publish(): void {
    clearTimeout(this.publishTimer);
    this.publishTimer = undefined;
    const served = new Set<string>();
    for (const user of this.users.values()) {
      if (user.method === ANY_METHOD) this.server.methods.forEach((m) => served.add(m));
      else served.add(user.method);
    }
    const key = [...served].sort().join(',');
    if (key === this.published) return;
    this.published = key;
    this.server.serve(served, this.dispatch);
  }

  private readonly dispatch = (request: InboundRequest): Promise<unknown> => {
    const user = this.route(request.method);
    // The provider only routes served methods, so this is a race with a redeploy.
    if (!user) return Promise.reject(new PosError('bad_input', `no flow answers ${request.method} at the moment`));
    return user.handle(request);
  };
}
