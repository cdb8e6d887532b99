// A separate process serving loopback listeners for sandbox tests (the test process blocks in
// spawnSync and could not accept). Prints {"tcp":[p1,p2],"abstract":NAME} and exits when its
// stdin closes.

import { createServer, type Socket } from 'node:net';

const name = process.argv[2] ?? `ward-test-${process.pid}`;
const handler = (c: Socket) => c.end('hello\n');
const listen = (arg: number | string, host?: string) =>
  new Promise<number>((resolve) => {
    const srv = createServer(handler);
    const done = () => resolve(typeof srv.address() === 'object' ? (srv.address() as { port: number }).port : 0);
    if (host) srv.listen(arg as number, host, done);
    else srv.listen(arg as string, done);
  });

const tcp = [await listen(0, '127.0.0.1'), await listen(0, '127.0.0.1')];
await listen(`\0${name}`);
process.stdout.write(JSON.stringify({ tcp, abstract: name }) + '\n');
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), 10 * 60_000).unref();
