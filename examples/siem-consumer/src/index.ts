export { SiemConsumer } from './SiemConsumer';
export type { SiemConsumerOptions, SiemSummary } from './SiemConsumer';
export { SchemaValidator, DEFAULT_SCHEMA_PATH } from './SchemaValidator';
export type { SchemaNode } from './SchemaValidator';
export { SessionOrder } from './SessionOrder';
export type { SessionReport } from './SessionOrder';
export { formatSummary } from './formatSummary';
