import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { describeWith } from '../../../../test/services';
import { ALICE, startMysqlGateway, type MysqlGateway } from '../helpers/mysqlGateway';
import { errnoOf, RawClient } from '../helpers/rawClient';

describeWith('mariadb')('malformed input ends only the offending session', () => {
  let gw: MysqlGateway;
  let healthy: Connection;

  beforeAll(async () => {
    gw = await startMysqlGateway({ listener: { maxPacketSize: 1 << 20 } });
    healthy = await createConnection({ host: '127.0.0.1', port: gw.port, user: ALICE.name, password: ALICE.password, database: 'app' });
  });

  afterAll(async () => {
    await healthy?.end();
    await gw?.stop();
  });

  const stillWorks = async (): Promise<void> => {
    const [rows] = await healthy.query<RowDataPacket[]>('SELECT 5 AS v');
    expect(rows[0]!.v).toBe(5);
  };

  it('a handshake response with the wrong sequence id', async () => {
    const c = await RawClient.open(gw.port);
    await c.read();
    c.send(7, Buffer.alloc(40));
    expect(errnoOf((await c.read())?.payload)).toBe(1835);
    expect(await c.closedWithin(2000)).toBe(true);
    await stillWorks();
  });

  it('a truncated handshake response', async () => {
    const c = await RawClient.open(gw.port);
    await c.read();
    const payload = Buffer.alloc(20);
    payload.writeUInt32LE(0x200 | 0x8000, 0);
    c.send(1, payload);
    expect(errnoOf((await c.read())?.payload)).toBe(1835);
    expect(await c.closedWithin(2000)).toBe(true);
    await stillWorks();
  });

  it('a command with an out-of-order sequence id, and a length past the packet limit', async () => {
    const a = await RawClient.open(gw.port);
    await a.login(ALICE.name, ALICE.password);
    a.send(3, Buffer.from('\x03SELECT 1', 'latin1'));
    expect(errnoOf((await a.read())?.payload)).toBe(1835);
    expect(await a.closedWithin(2000)).toBe(true);

    const b = await RawClient.open(gw.port);
    await b.login(ALICE.name, ALICE.password);
    b.sendRaw(Buffer.from([0x00, 0x00, 0x20, 0x00, 0x03])); // declares 2 MB > the 1 MB limit
    expect(errnoOf((await b.read())?.payload)).toBe(1835);
    expect(await b.closedWithin(2000)).toBe(true);
    await stillWorks();
  });

  it('garbage instead of a handshake, and a malformed COM_STMT_EXECUTE', async () => {
    const c = await RawClient.open(gw.port);
    await c.read();
    c.sendRaw(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const answer = await c.read();
    expect(answer === undefined || errnoOf(answer.payload) === 1835).toBe(true);
    expect(await c.closedWithin(2000)).toBe(true);

    const d = await RawClient.open(gw.port);
    await d.login(ALICE.name, ALICE.password);
    d.send(0, Buffer.from([0x19, 0x01])); // COM_STMT_CLOSE with a truncated id
    expect(errnoOf((await d.read())?.payload)).toBe(1835);
    expect(await d.closedWithin(2000)).toBe(true);
    await stillWorks();
    expect(gw.listener.activeSessions).toBe(1);
  });
});
