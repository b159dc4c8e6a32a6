import { maskingPlugin } from './maskingPlugin';

export default maskingPlugin;
export { maskingPlugin };
export { MaskingInterceptor } from './MaskingInterceptor';
export { MaskingPolicy } from './MaskingPolicy';
export type { ActiveRules, ColumnDecision, MaskingPlan, StatementAssessment } from './MaskingPolicy';
export { parseMaskingOptions, parseStrategy } from './MaskingOptions';
export type { Exemption, Fallback, FallbackScope, MaskingOptions, MaskingRule, SensitiveCopies, UnknownRelations } from './MaskingOptions';
export { alignLineage } from './alignLineage';
export type { AlignedColumn } from './alignLineage';
export {
  BUILTIN_DETECTORS, builtinDetector, customDetector, detectsAny, ibanValid, isBuiltinDetector, luhnValid, maskMatches, patternDetector,
} from './detectors';
export type { BuiltinDetectorName, Detector } from './detectors';
export {
  DEFAULT_REDACTION, MaskingKey, STRATEGY_KINDS, compileMask, emailMask, partial, pseudonymText, textMask, typedRedaction,
} from './strategies';
export type { MaskTarget, Strategy, StrategyKind } from './strategies';
export { typeFamily, isTextFamily } from './TypeFamily';
export type { TypeFamily } from './TypeFamily';
export { ColumnPattern, Glob, NamePattern } from './patterns';
export { ViewResolverCapability } from './ViewResolver';
export type { RelationInfo, ViewColumn, ViewResolver } from './ViewResolver';
export { StaticViewResolver } from './StaticViewResolver';
export { redactServerError, WITHHELD_MESSAGE } from './redactServerError';
