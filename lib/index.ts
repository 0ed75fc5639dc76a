// gpt2-lab's public surface: what a notebook or a program using the library needs, each name listed
// in the README. Notebooks import this (compiled) file; see notebooks/README.md. Everything else is
// internal and imported by its module path (tests, the benchmark, the CLI).

// Loading a model, and the model itself.
export { loadModel, loadModelOrDefault } from "./model/load";
export type { LoadModelOptions, LoadedModel } from "./model/load";
export type { Model, DecoderInputs, DecoderOutputs, KvCache } from "./model/model";
export type { Device, ResolvedDevice } from "./model/device";
export type { WeightDtype } from "./onnx/gpt2-graph";

// Tokens.
export { gpt2Tokenizer, loadTokenizer } from "./tokenizer/tokenizer";
export type { Tokenizer, Encoding, BatchEncoding, Explanation, ExplainedChunk } from "./tokenizer/tokenizer";

// Generating text.
export { generate } from "./generate/generate";
export type { GenerateResult, Sample } from "./generate/generate";
export type { GenerateOptions, TraceLevel, TokenEvent } from "./generate/options";
export type { BeamTree, BeamStep, BeamNode } from "./generate/beam-search";
export type { Prompt } from "./generate/prompt";
export type { StepTrace } from "./sampling/choose";

// Why this token: attribution, ablation, patching, occlusion.
export { attribute } from "./interpret/attribute";
export { ablate } from "./interpret/ablate";
export { patchActivations } from "./interpret/patch";
export { occlude } from "./interpret/occlude";
export type { Attribution, AttributeOptions } from "./interpret/attribute";
export type { Ablation, AblateOptions, Prediction } from "./interpret/ablate";
export type { Patching, PatchOptions } from "./interpret/patch";
export type { Occlusion, OccludeOptions } from "./interpret/occlude";

// Inside the model (`model.inspect`).
export type { Inspection, InspectOptions, LensEntry, LensToken } from "./inspect/inspect";
export { surprise, type Surprise } from "./inspect/surprise";

// One step's distribution, stage by stage.
export { softmax, logSoftmax, argmax, entropy, topN, rankOf, sampleToken, type TokenProb } from "./sampling/distribution";
export { applyTemperature, applyTopK, applyTopP } from "./sampling/warpers";
export { processLogits, whyRemoved } from "./sampling/pipeline";
export type { SamplingOptions, SamplingStages, Removal, StageName } from "./sampling/pipeline";
export { createRandom, type Random } from "./random";

// Model files: GPT-2's shapes, random models, the Hub cache.
export { END_OF_TEXT_ID, configForShape, type Gpt2Config, type ShapeName } from "./config";
export { parameterSpecs, countParameters, type ParameterSpec } from "./weights/checkpoint";
export { makeModel, type MakeModelOptions } from "./weights/make-model";
export { resolveModelFiles, type ResolveOptions } from "./hub/resolve";
export { listCachedModels, type CachedModel } from "./hub/cache";
export { ModelFilesError, type ModelFilesErrorCode } from "./hub/errors";
export type { ModelFiles, OnnxModelFiles } from "./hub/model-folder";
export type { DownloadProgress } from "./hub/download";

// Figures: plain data in, a plotly figure out.
export { temperatureSliderFigure, topKCutFigure, samplingStagesFigure } from "./plots/next-token";
export type { TemperatureSliderOptions, TopKCutOptions, SamplingStagesOptions } from "./plots/next-token";
export { entropyFigure, distinctTokenCounts, distinctTokensFigure } from "./plots/diversity";
export type { EntropyFigureOptions, DistinctTokenCounts, DistinctTokenOptions, NamedLogits } from "./plots/diversity";
export { tokenProbabilityHtml, type ScoredToken, type TokenProbabilityOptions } from "./plots/tokens";
export { attentionMaskFigure, attentionFigure, lookedAtFigure } from "./plots/attention";
export type { AttentionMaskOptions, AttentionData, AttentionFigureOptions, LookedAtOptions } from "./plots/attention";
export { logitLensFigure, type LensData, type LogitLensOptions } from "./plots/lens";
export { architectureFigure } from "./plots/architecture";
export { beamTreeFigure } from "./plots/beam-tree";
export { attributionFigure, patchingFigure, occlusionHtml } from "./plots/why";
export type { PlotlyFigure, TokenTextFn } from "./plots/figure";

// Showing them in a tslab notebook.
export { showFigure, showHtml, showProgress, type ShowFigureOptions, type ShowProgressOptions } from "./display";
