/**
 * A TCP proxy a test controls, to cut a client off from a shared server (PostgreSQL) without
 * touching the server: `cut()` destroys every open connection and refuses new ones (accepted
 * then destroyed at once) until `restore()`.
 *
 * @example
 * const proxy = await startTcpProxy(5432);
 * const url = `postgres://postgres@127.0.0.1:${proxy.port}/db`;
 * proxy.cut(); … proxy.restore(); await proxy.close();
 */
import net from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far (including refused ones). */
  readonly accepted: number;
  /** Connections currently open through the proxy. */
  readonly open: number;
  /** Destroys open connections and refuses new ones until {@link restore}. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let refusing = false;
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    const pair = { client, upstream };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no TCP address");
  return {
    port: address.port,
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    cut(): void {
      refusing = true;
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
    },
    restore(): void {
      refusing = false;
    },
    async close(): Promise<void> {
      refusing = true;
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
