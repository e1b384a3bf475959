// Which pos-request-in node answers which inbound method. One router per connection: nodes
// join and leave on deploy, and the provider is told the served set after every change (Dojo
// re-registers its capabilities). An exact method beats `*`; `*` takes every method no other
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

export class RequestRouter {
  private readonly users = new Map<string, RequestUser>();

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

  /** Throws a PosError a person can act on when the method is unknown or already taken. */
  add(user: RequestUser): () => void {
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
    return () => {
      if (this.users.get(user.id) === user) {
        this.users.delete(user.id);
        this.publish();
      }
    };
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
    const served = new Set<string>();
    for (const user of this.users.values()) {
      if (user.method === ANY_METHOD) this.server.methods.forEach((m) => served.add(m));
      else served.add(user.method);
    }
    this.server.serve(served, this.dispatch);
  }

  private readonly dispatch = (request: InboundRequest): Promise<unknown> => {
    const user = this.route(request.method);
    // The provider only routes served methods, so this is a race with a redeploy.
    if (!user) return Promise.reject(new PosError('bad_input', `no flow answers ${request.method} at the moment`));
    return user.handle(request);
  };
}
