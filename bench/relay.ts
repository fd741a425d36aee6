// A reference point for `npm run bench` scenario (b), not part of smppd: the least a process between
// the load generator and the simulator can do. It answers every bind with ESME_ROK, and relays each
// submit_sm to one of its upstream sessions (round robin) and each response back, rewriting only the
// sequence number. It reads nothing but the 16-byte header: no routing, no message ids, no store,
// no limits, no metrics, no timeouts; frames are rewritten where they were read, and requests in flight
// are found by sequence number in a fixed array (up to SLOTS per upstream session: the benchmark keeps
// at most 4 x 100 in flight). Whatever this relay reaches as a share of direct on a machine is a
// ceiling for any proxy there: on two cores, three processes share them (bench/run.ts).
//
// Usage: node dist/bench/relay.js PORT UPSTREAM_HOST:PORT [BINDS]   (PORT 0: any free port)
// Prints "relay listening on 127.0.0.1:PORT" once every upstream session is bound.

import net from 'node:net';
import { CommandId, Status, encodePdu, isResponseId, type Pdu } from '../proxy/smpp/index.js';

const HEADER = 16;
const BIND_COMMANDS = new Set<number>([CommandId.bind_transmitter, CommandId.bind_receiver, CommandId.bind_transceiver]);

/** Frames written in one tick leave in one socket write, as smppd's sessions do (session.ts writeFrame). */
class Outbox {
  private frames: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;
  constructor(private readonly socket: net.Socket) {}

  add(frame: Buffer): void {
    this.frames.push(frame);
    this.bytes += frame.length;
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const out = this.frames.length === 1 ? this.frames[0]! : Buffer.concat(this.frames, this.bytes);
    this.frames = [];
    this.bytes = 0;
    if (!this.socket.destroyed) this.socket.write(out);
  };
}

/** Calls onFrame(buffer, start, length) for each whole PDU in the byte stream. */
function framer(onFrame: (buf: Buffer, start: number, length: number) => void): (chunk: Buffer) => void {
  let pending: Buffer | undefined;
  return (chunk) => {
    const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    while (buf.length - at >= HEADER) {
      const length = buf.readUInt32BE(at);
      if (length < HEADER) throw new Error(`bad command_length ${length}`);
      if (buf.length - at < length) break;
      onFrame(buf, at, length);
      at += length;
    }
    pending = at === buf.length ? undefined : buf.subarray(at);
  };
}

/** A header-only response: the request's command with the response bit, status 0, its sequence number, `body`. */
function response(commandId: number, sequence: number, body: Buffer): Buffer {
  const frame = Buffer.alloc(HEADER + body.length);
  frame.writeUInt32BE(frame.length, 0);
  frame.writeUInt32BE((commandId | CommandId.generic_nack) >>> 0, 4);
  frame.writeUInt32BE(sequence, 12);
  body.copy(frame, HEADER);
  return frame;
}

const SYSTEM_ID_BODY = Buffer.from('relay\0', 'latin1');
const NO_BODY = Buffer.alloc(0);

interface Waiting {
  client: Outbox;
  sequence: number;
}

/** Requests in flight per upstream session, by sequence number modulo SLOTS. */
const SLOTS = 4096;

interface Upstream {
  out: Outbox;
  waiting: (Waiting | undefined)[];
  nextSequence: number;
}

function connectUpstream(host: string, port: number, onBound: () => void): Upstream {
  const socket = net.connect(port, host);
  socket.setNoDelay(true);
  const up: Upstream = { out: new Outbox(socket), waiting: new Array<Waiting | undefined>(SLOTS).fill(undefined), nextSequence: 1 };
  socket.on(
    'data',
    framer((buf, at, length) => {
      const commandId = buf.readUInt32BE(at + 4);
      const sequence = buf.readUInt32BE(at + 12);
      if (commandId === CommandId.enquire_link) {
        up.out.add(response(commandId, sequence, NO_BODY));
      } else if (commandId === CommandId.bind_transceiver_resp) {
        if (buf.readUInt32BE(at + 8) !== Status.ESME_ROK) throw new Error('upstream bind refused');
        onBound();
      } else if (isResponseId(commandId)) {
        const w = up.waiting[sequence % SLOTS];
        if (w === undefined) return;
        up.waiting[sequence % SLOTS] = undefined;
        const frame = buf.subarray(at, at + length);
        frame.writeUInt32BE(w.sequence, 12);
        w.client.add(frame);
      }
    }),
  );
  socket.on('error', (err) => {
    process.stderr.write(`relay: upstream ${host}:${port}: ${err.message}\n`);
    process.exit(2);
  });
  const bind: Pdu = {
    command: 'bind_transceiver',
    command_status: 0,
    sequence_number: 0x7fffffff,
    system_id: 'smppd',
    password: 'secret',
    system_type: '',
    interface_version: 0x34,
    addr_ton: 0,
    addr_npi: 0,
    address_range: '',
  };
  socket.write(encodePdu(bind));
  return up;
}

function serve(port: number, upstreams: Upstream[]): net.Server {
  let turn = 0;
  return net.createServer((socket) => {
    socket.setNoDelay(true);
    const out = new Outbox(socket);
    socket.on('error', () => socket.destroy());
    socket.on(
      'data',
      framer((buf, at, length) => {
        const commandId = buf.readUInt32BE(at + 4);
        const sequence = buf.readUInt32BE(at + 12);
        if (commandId === CommandId.submit_sm) {
          const up = upstreams[turn++ % upstreams.length]!;
          const upSequence = up.nextSequence;
          up.nextSequence = upSequence >= 0x7ffffffe ? 1 : upSequence + 1;
          const frame = buf.subarray(at, at + length);
          frame.writeUInt32BE(upSequence, 12);
          up.waiting[upSequence % SLOTS] = { client: out, sequence };
          up.out.add(frame);
        } else if (BIND_COMMANDS.has(commandId)) {
          out.add(response(commandId, sequence, SYSTEM_ID_BODY));
        } else if (commandId === CommandId.enquire_link) {
          out.add(response(commandId, sequence, NO_BODY));
        } else if (commandId === CommandId.unbind) {
          out.add(response(commandId, sequence, NO_BODY));
          socket.end();
        }
      }),
    );
  }).listen(port, '127.0.0.1');
}

function main(argv: string[]): void {
  const [portArg, upstreamArg, bindsArg] = argv;
  const m = /^(.+):(\d+)$/.exec(upstreamArg ?? '');
  if (portArg === undefined || m === null) {
    process.stderr.write('usage: relay.js PORT UPSTREAM_HOST:PORT [BINDS]\n');
    process.exit(1);
  }
  const binds = Number(bindsArg ?? 4);
  let bound = 0;
  const upstreams: Upstream[] = [];
  for (let i = 0; i < binds; i++) {
    upstreams.push(
      connectUpstream(m[1]!, Number(m[2]), () => {
        if (++bound < binds) return;
        const server = serve(Number(portArg), upstreams);
        server.on('error', (err) => {
          process.stderr.write(`relay: cannot listen on port ${portArg}: ${err.message}\n`);
          process.exit(2);
        });
        server.on('listening', () => {
          const address = server.address() as net.AddressInfo;
          process.stdout.write(`relay listening on 127.0.0.1:${address.port}\n`);
        });
      }),
    );
  }
  process.once('SIGTERM', () => process.exit(0));
}

main(process.argv.slice(2));
