// Lingering close, as nginx and Apache do it: after refusing an upload (413) the server answers and closes
// while the client is still sending. Closing a socket whose received data was not read makes the kernel
// send a reset instead of an orderly close; the client's next write then fails with EPIPE or ECONNRESET,
// and most clients report that error instead of reading the 413 that says why. So the refused connection
// first sends its answer and its FIN, then reads and throws away what still arrives, and closes once the
// client has closed its side or after a few seconds at most.
import { Socket } from "node:net";

/** How long a refused connection keeps reading before it closes regardless (nginx: lingering_time 30 s). */
export const LINGER_MS = 5000;

/**
 * Makes the server's close of this connection (Node calls `destroySoon()` once a `Connection: close` answer
 * is written) a lingering one. Sockets that are not real TCP sockets (Fastify's `inject`) are left alone.
 */
export function lingerOnClose(socket: unknown, lingerMs = LINGER_MS): void {
  if (!(socket instanceof Socket)) return;
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end(); // the answer is already written; FIN after it
    const close = () => {
      clearTimeout(timer);
      this.destroy();
    };
    const timer = setTimeout(close, lingerMs);
    timer.unref();
    this.once("end", close); // the client has closed its side: nothing more to read
    this.once("error", close);
    this.once("close", () => clearTimeout(timer));
    // Read and discard: the HTTP parser still owns the socket and drops the rest of the refused body.
    this.resume();
  };
}
