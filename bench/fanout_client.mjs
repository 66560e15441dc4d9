// Subscribers for bench/fanout.py, in Node: the load generator must not be what is measured, and
// Node reads 100,000 small frames a second on a fraction of a core where a Python process needs
// all of one (on a 2-core machine the subscribers share the cores with the servers).
//
//   node bench/fanout_client.mjs <subscribers> <sampled> <host> <port> <path> [<host> <port> <path> ...]
//
// Opens the subscribers (spread round-robin over the targets), prints "READY <n>"; counts text
// frames between "go" and "stop" on stdin; then prints one JSON line {frames, latencies_ms} and
// exits. <sampled> subscribers, spread evenly over the connection order, decode their frames'
// `sent_ns` for the latency.
import crypto from "node:crypto";
import net from "node:net";
import readline from "node:readline";

const [total, sampledArg, ...flat] = process.argv.slice(2);
const targets = [];
for (let k = 0; k + 2 < flat.length; k += 3) targets.push([flat[k], Number(flat[k + 1]), flat[k + 2]]);
const n = Number(total);
const sampled = Number(sampledArg);
let counting = false;
let frames = 0;
const latencies = [];
const sockets = [];

const nowMs = () => performance.timeOrigin + performance.now();

function subscribe(i) {
  const [host, port, path] = targets[i % targets.length];
  const stride = sampled > 0 ? Math.max(1, Math.floor(n / sampled)) : 1;
  const sample = sampled > 0 && i % stride === 0 && i / stride < sampled;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => {
      const key = crypto.randomBytes(16).toString("base64");
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`);
    });
    socket.setNoDelay(true);
    sockets.push(socket);
    let buf = Buffer.alloc(0);
    let upgraded = false;
    socket.on("error", (err) => (upgraded ? null : reject(err)));
    socket.on("data", (data) => {
      buf = buf.length ? Buffer.concat([buf, data]) : data;
      if (!upgraded) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const status = buf.subarray(0, buf.indexOf("\r\n")).toString();
        if (!status.includes(" 101 ")) {
          reject(new Error(buf.subarray(0, 200).toString()));
          return;
        }
        upgraded = true;
        resolve();
        buf = buf.subarray(end + 4);
      }
      let at = 0;
      while (buf.length - at >= 2) {
        const opcode = buf[at] & 0x0f;
        let length = buf[at + 1] & 0x7f;
        let head = 2;
        if (length === 126) {
          if (buf.length - at < 4) break;
          length = buf.readUInt16BE(at + 2);
          head = 4;
        } else if (length === 127) {
          if (buf.length - at < 10) break;
          length = Number(buf.readBigUInt64BE(at + 2));
          head = 10;
        }
        if (buf.length - at < head + length) break;
        const payload = buf.subarray(at + head, at + head + length);
        at += head + length;
        if (opcode === 1 && counting) {
          frames += 1;
          if (sample) {
            const sent = Number(JSON.parse(payload).event.data.sent_ns) / 1e6;
            latencies.push(nowMs() - sent);
          }
        } else if (opcode === 9) { // ping: answer with a masked pong
          const mask = crypto.randomBytes(4);
          const masked = Buffer.from(payload.map((b, k) => b ^ mask[k % 4]));
          socket.write(Buffer.concat([Buffer.from([0x8a, 0x80 | payload.length]), mask, masked]));
        }
      }
      buf = buf.subarray(at);
    });
  });
}

for (let first = 0; first < n; first += 250) {
  const batch = [];
  for (let i = first; i < Math.min(n, first + 250); i++) batch.push(subscribe(i));
  await Promise.all(batch);
}
console.log(`READY ${n}`);

const commands = readline.createInterface({ input: process.stdin });
commands.on("line", (line) => {
  if (line === "go") counting = true;
  if (line === "stop") {
    counting = false;
    for (const socket of sockets) socket.destroy();
    // Exit once the line is out: a pipe is written asynchronously (exiting at once cuts it).
    process.stdout.write(`${JSON.stringify({ frames, latencies_ms: latencies })}\n`,
      () => process.exit(0));
  }
});
