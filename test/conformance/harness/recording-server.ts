/**
 * The part every upstream fake of the conformance suite shares: a node:http
 * server bound to 127.0.0.1:0 that keeps the requests it received, and the
 * lookups tests make on them. Subclasses attach their own "request" handler.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export class RecordingServer<T extends { url: string }> {
  readonly server: Server = createServer();
  readonly requests: T[] = [];
  port = 0;
  readonly #label: string;

  /** `label` names the server in errors, e.g. `Upstream a`. */
  constructor(label: string) {
    this.#label = label;
  }

  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:43123`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Requests whose target contains `marker`. */
  find(marker: string): T[] {
    return this.requests.filter((r) => r.url.includes(marker));
  }

  /** The single request whose target contains `marker`; throws unless exactly one. */
  one(marker: string): T {
    const found = this.find(marker);
    if (found.length !== 1) {
      throw new Error(
        `${this.#label}: expected 1 request containing "${marker}", saw ${found.length}: ${
          JSON.stringify(this.requests.map((r) => r.url).slice(-20))
        }`,
      );
    }
    return found[0]!;
  }
}
