import { capability, type RelationCatalog } from '@querygate/core';

export type { RelationInfo, ViewColumn } from '@querygate/core';

/**
 * Resolves view definitions for masking. Protocol adapters keep one per listener from the
 * database's catalog (core's `RelationCatalogCapability`); an operator's plugin may provide its own
 * under `ViewResolverCapability`, which then replaces the adapters' for every session.
 */
export type ViewResolver = RelationCatalog;

export const ViewResolverCapability = capability<ViewResolver>('masking.view-resolver');
