// One namespace for the pure codec functions (exported from the package as `codec`).
export * from './parser';
export * from './serializer';
export * from './binaryValues';
export * from '../auth/scramble';
