import { Client, type ClientConfig } from 'pg';

/** Runs `run` on a connected node-postgres client, and ends the client whatever happens. */
export async function withClient<T>(config: ClientConfig, run: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client(config);
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
