// The pure codec in one namespace: decoders (parser) and encoders (serializer).
export * from './parser';
export * from './serializer';
