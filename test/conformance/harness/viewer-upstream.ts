/**
 * The upstream the viewer tests browse through: one route per kind of thing
 * the viewer draws: JSON, a 5xx, a hostile HTML body, binary, an event
 * stream, a WebSocket echo that the upstream closes with a code, gzip, and
 * a body larger than the capture limit.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { WebSocketServer } from "ws";

/** A body that runs script if it is ever rendered as HTML. */
export const XSS_BODY = `<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">`;
export const JSON_BODY = { user: { name: "ada", roles: ["admin", "ops"] }, count: 3 };
export const SSE_EVENTS = ["alpha", "beta", "gamma"];
export const WS_CLOSE = { code: 4001, reason: "upstream done" };
export const BINARY_BODY = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3, 255, 254]);

/** Larger than the viewer tests' max_body_size (64 KiB), so its capture is cut. */
export const BIG_BODY = "0123456789abcdef\n".repeat(6000);

export interface ViewerUpstream {
  url: string;
  close(): Promise<void>;
}

export async function startViewerUpstream(): Promise<ViewerUpstream> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    req.resume();
    if (path === "/json") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(JSON_BODY));
    } else if (path.startsWith("/fail")) {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("upstream unavailable\n");
    } else if (path === "/xss") {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(XSS_BODY);
    } else if (path === "/bin") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(BINARY_BODY);
    } else if (path === "/gzip") {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end(gzipSync(JSON.stringify({ compressed: true, items: [1, 2, 3] })));
    } else if (path === "/big") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(BIG_BODY);
    } else if (path === "/events") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      let index = 0;
      const next = () => {
        if (index === SSE_EVENTS.length) return res.end();
        res.write(`event: tick\nid: e${index}\ndata: ${SSE_EVENTS[index]}\n\n`);
        index++;
        setTimeout(next, 60);
      };
      next();
    } else {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`ok ${path}\n`);
    }
  });
  const sockets = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    sockets.handleUpgrade(req, socket, head, (ws) => {
      ws.on("message", (data, binary) => {
        const text = data.toString();
        if (text === "bye") ws.close(WS_CLOSE.code, WS_CLOSE.reason);
        else ws.send(binary ? data : `echo ${text}`);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
