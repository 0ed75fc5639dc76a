// Figure builders for the notebooks: plain data in, a plotly figure object (or an HTML string) out,
// drawn by lib/display.ts and inspected directly by tests. One file per kind of picture under
// lib/plots/; this file only re-exports their public parts.
export { escapeHtml, tokenLabel, tokenLabels } from "./plots/figure";
export type { PlotlyFigure, PlotlyFrame, PlotlyLayout, PlotlySlider, PlotlyTrace, TokenTextFn } from "./plots/figure";
export { REST_LABEL, samplingStagesFigure, temperatureSliderFigure, topKCutFigure } from "./plots/distribution";
export type { SamplingStagesOptions, TemperatureSliderOptions, TopKCutOptions } from "./plots/distribution";
export { distinctTokenCounts, distinctTokensFigure, entropyFigure, geometricRange } from "./plots/diversity";
export type { DistinctTokenCounts, DistinctTokenOptions, EntropyFigureOptions, NamedLogits } from "./plots/diversity";
export { probabilityColour, tokenProbabilityHtml } from "./plots/tokens";
export type { ScoredToken, TokenProbabilityOptions } from "./plots/tokens";
export { attentionMaskFigure, causalMask } from "./plots/attention";
export type { AttentionMaskOptions } from "./plots/attention";
