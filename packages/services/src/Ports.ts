import { createServer } from 'node:net';

// Ports handed out recently by this process: the kernel may return a just-closed port again, and two
// servers started in parallel must not both be given it.
const handedOut = new Set<number>();

function bindEphemeral(host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read the bound port'))));
    });
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. The usual bind-to-0-and-close race applies, so
 * callers start their server right away and report "address in use" clearly if they lose it.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await bindEphemeral(host);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: the kernel kept returning ports this process already handed out');
}

const PORT_TAKEN = /address already in use|bind on tcp\/ip port|could not bind|BindException/i;

/**
 * Runs `start` (which picks fresh ports each time) again when it failed because another process grabbed
 * its port between freePort() and the server's bind.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start();
    } catch (e) {
      if (i >= attempts || !(e instanceof Error) || !PORT_TAKEN.test(e.message)) throw e;
    }
  }
}
