import { postgresInfo } from '../../../test/services';

/** URL of the harness PostgreSQL (role app) for the approval store. */
export function approvalDbUrl(): string {
  const pg = postgresInfo();
  const u = pg.users.app;
  return `postgresql://${encodeURIComponent(u.user)}:${encodeURIComponent(u.password)}@${pg.host}:${pg.port}/${pg.database}`;
}
