import { definePlugin, type QuerygatePlugin } from '@querygate/core';
import { MaskingInterceptor } from './MaskingInterceptor';
import { parseMaskingOptions } from './MaskingOptions';
import { MaskingPolicy } from './MaskingPolicy';
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
    // The catalog resolver may be provided after this plugin registers (by a protocol adapter):
    // look it up until found.
    let found: ViewResolver | undefined;
    const resolver = (): ViewResolver | undefined => {
      found ??= context.use(ViewResolverCapability);
      return found ?? options.views;
    };
    context.addInterceptor(new MaskingInterceptor(policy, resolver));
    context.logger.info('masking enabled', {
      rules: options.rules.length,
      fallback: options.fallback,
      detectors: [...new Set(options.rules.flatMap((r) => r.detectors.map((d) => d.name)))],
    });
  },
});
