// Throwaway PostgreSQL, MariaDB and Apache Kafka servers for querygate's tests. Node stdlib only.
export { freePort, retryOnPortClash } from './Ports';
export { ensureDebianPackages, DebianPackages } from './DebianPackages';
export {
  startPostgres,
  PostgresServer,
  type PostgresInfo,
  type PostgresUser,
  type PostgresUserName,
  type PsqlOptions,
  type StartPostgresOptions,
} from './PostgresServer';
export {
  startMariadb,
  MariadbServer,
  type MariadbInfo,
  type MariadbUser,
  type MariadbUserName,
  type MariadbCliOptions,
  type StartMariadbOptions,
} from './MariadbServer';
export { startKafka, KafkaBroker, KAFKA_VERSION, type KafkaInfo, type StartKafkaOptions } from './KafkaBroker';
export { CommandError } from './Command';
export { ServiceUser } from './ServiceUser';
