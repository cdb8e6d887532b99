export * from './model.ts';
export { PolicyParseError, parseErrorLine, renderParseError, type PolicyErrno } from './errors.ts';
export { decidingRuleText, decisionJson, decisionText, type DecisionJson } from './decision.ts';
export { parsePolicy, parsePolicyLazy, parsePolicyOrThrow, ruleCount, validatePolicy, type ParseResult, type PolicySummary } from './parser.ts';
export { evaluate, type Decision, type MatchType } from './evaluator.ts';
export { CompiledPolicy, compilePolicy } from './compiled.ts';
export { formatPolicy } from './format.ts';
export { StaticFileContext, contextFromJson, normalizeDigest, type FileContext, type StaticContextValues } from './context.ts';
export * from './lifecycle.ts';
