// A tiny SMTP server for tests (node:net, no TLS, no AUTH): it accepts every message and keeps it, or
// refuses the next ones with a temporary error when asked to.
import { createServer, type Socket } from "node:net";

export interface ReceivedMail {
  from: string;
  to: string[];
  /** Header fields by lower-case name (unfolded). */
  headers: Record<string, string>;
  body: string;
}

export interface SmtpSink {
  url: string;
  messages: ReceivedMail[];
  /** Refuses the next `count` messages with 451 (a temporary failure). */
  refuseNext(count: number): void;
  close(): Promise<void>;
}

function parseMessage(from: string, to: string[], data: string): ReceivedMail {
  const split = data.indexOf("\r\n\r\n");
  const head = split < 0 ? data : data.slice(0, split);
  const body = split < 0 ? "" : data.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { from, to, headers, body };
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const sockets = new Set<Socket>();
  let refusals = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const reply = (line: string) => socket.write(`${line}\r\n`);
    let buffer = "";
    let from = "";
    let to: string[] = [];
    let data: string[] | null = null;
    reply("220 sink.test ESMTP test sink");
    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      for (let end = buffer.indexOf("\r\n"); end >= 0; end = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data) {
          if (line === ".") {
            messages.push(parseMessage(from, to, data.join("\r\n")));
            data = null;
            reply("250 2.0.0 queued");
          } else {
            data.push(line.startsWith("..") ? line.slice(1) : line);
          }
          continue;
        }
        const command = line.slice(0, 4).toUpperCase();
        if (command === "EHLO") {
          reply("250-sink.test");
          reply("250 8BITMIME");
        } else if (command === "HELO" || command === "NOOP") {
          reply("250 sink.test");
        } else if (command === "MAIL") {
          if (refusals > 0) {
            refusals--;
            reply("451 4.3.0 try again later");
          } else {
            from = /<([^>]*)>/.exec(line)?.[1] ?? "";
            to = [];
            reply("250 2.1.0 ok");
          }
        } else if (command === "RCPT") {
          to.push(/<([^>]*)>/.exec(line)?.[1] ?? "");
          reply("250 2.1.5 ok");
        } else if (command === "DATA") {
          data = [];
          reply("354 end with <CRLF>.<CRLF>");
        } else if (command === "RSET") {
          from = "";
          to = [];
          reply("250 2.0.0 ok");
        } else if (command === "QUIT") {
          reply("221 2.0.0 bye");
          socket.end();
        } else {
          reply("502 5.5.2 command not implemented");
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the SMTP sink has no port");
  return {
    url: `smtp://127.0.0.1:${address.port}`,
    messages,
    refuseNext(count) {
      refusals = count;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
