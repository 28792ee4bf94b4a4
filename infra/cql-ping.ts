/**
 * Exits 0 when a CQL server answers on host:port, 1 otherwise.
 *
 * @remarks
 * The start scripts need "does a node already answer CQL?" without cqlsh (Python) and
 * before a driver session is worth building. The native protocol's OPTIONS request
 * (opcode 0x05) is answered with SUPPORTED (opcode 0x06) by any ready node, before
 * authentication, so one 9-byte frame is a faithful readiness probe.
 *
 * Usage: tsx infra/cql-ping.ts [host] [port] [timeoutMs]
 */
import { connect } from 'node:net';

const [host = '127.0.0.1', portText = '9042', timeoutText = '1500'] = process.argv.slice(2);
const OPTIONS_FRAME = Buffer.from([0x04, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00]);
const OPCODE_SUPPORTED = 0x06;

const socket = connect({ host, port: Number(portText) });
const finish = (ok: boolean): void => {
  socket.destroy();
  process.exit(ok ? 0 : 1);
};
socket.setTimeout(Number(timeoutText), () => finish(false));
socket.on('error', () => finish(false));
socket.on('connect', () => socket.write(OPTIONS_FRAME));
let received = Buffer.alloc(0);
socket.on('data', (chunk: Buffer) => {
  received = Buffer.concat([received, chunk]);
  if (received.length >= 5) finish(received[4] === OPCODE_SUPPORTED);
});
