import { definePlugin, RelationCatalogCapability, type QuerygatePlugin, type RelationCatalog, type Session } from '@querygate/core';
import { MaskingInterceptor } from './MaskingInterceptor';
import { parseMaskingOptions } from './MaskingOptions';
import { MaskingPolicy } from './MaskingPolicy';
import type { StaticViewResolver } from './StaticViewResolver';
import { ViewResolverCapability, type ViewResolver } from './ViewResolver';

/**
 * `@querygate/plugin-masking`: masks sensitive result values inline. Options are documented in
 * the package README and docs/masking.md.
 */
export const maskingPlugin: QuerygatePlugin = definePlugin({
  name: 'masking',
  register(context) {
    const options = parseMaskingOptions(context.options);
    const policy = new MaskingPolicy(options);
    // Asked for here, at registration, so adapters know to keep catalog snapshots.
    const catalogs = context.use(RelationCatalogCapability);
    const withDeclared = new WeakMap<RelationCatalog, ViewResolver>();
    // An operator's own resolver may be provided by a plugin registered after this one: look it
    // up once, at the first statement (every plugin has registered before any session opens).
    let operator: ViewResolver | undefined;
    let lookedUp = false;
    const resolver = (session: Session): ViewResolver | undefined => {
      if (!lookedUp) { operator = context.use(ViewResolverCapability); lookedUp = true; }
      if (operator) return operator;
      const catalog = catalogs?.of(session);
      if (!catalog || !options.views) return catalog ?? options.views;
      let combined = withDeclared.get(catalog);
      if (!combined) {
        combined = catalogFirst(options.views, catalog);
        withDeclared.set(catalog, combined);
      }
      return combined;
    };
    context.addInterceptor(new MaskingInterceptor(policy, resolver));
    context.logger.info('masking enabled', {
      rules: options.rules.length,
      fallback: options.fallback,
      detectors: [...new Set(options.rules.flatMap((r) => r.detectors.map((d) => d.name)))],
    });
  },
});

/**
 * The catalog answers first: a declared view matches loosely (a declared `db.v` answers for any
 * `v`), so on a gateway with several listeners one declared for another database must not shadow
 * what this database's catalog knows. Declared views fill in relations the catalog does not know.
 */
function catalogFirst(declared: StaticViewResolver, catalog: RelationCatalog): ViewResolver {
  return {
    get version() { return catalog.version; },
    describe: (relation, session) => catalog.describe(relation, session) ?? declared.declared(relation),
    ...(catalog.routine ? { routine: catalog.routine.bind(catalog) } : {}),
  };
}
