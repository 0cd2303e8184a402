// Pure: reads the sizes that drive training memory out of a model's config.json (mlx-lm / Hugging Face layout).

/** What the memory estimate needs from a model; symbols as in the facts file (H, L, I, V, d, Hq, Hkv). */
export interface ModelShape {
  /** `model_type`, the family the calibration groups by (llama, qwen2, mistral, …). */
  family: string;
  hidden: number;
  layers: number;
  /** Per token: the dense intermediate size, or active experts × the expert size for a mixture of experts. */
  intermediate: number;
  vocab: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  tiedEmbeddings: boolean;
  /** From `quantization` (mlx) when the weights on disk are quantized. */
  quantization: { bits: number; groupSize: number } | null;
  /** Bytes of model*.safetensors as found on disk; null when the weight files are not visible. */
  weightFileBytes: number | null;
  /** Set for mixtures of experts and vision models: the estimate is less reliable for them. */
  caveat: string | null;
}

type Json = Record<string, unknown>;

const posInt = (v: unknown): number | null =>
  typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;

/** Parses config.json; an error names what is missing, so the caller can say "no estimate: <why>". */
export function parseModelConfig(
  config: unknown,
  weightFileBytes: number | null = null,
): ModelShape | { error: string } {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    return { error: 'config.json is not a JSON object' };
  const root = config as Json;
  // Vision-language models keep the language model's sizes under text_config.
  const textConfig =
    typeof root.text_config === 'object' && root.text_config !== null ? (root.text_config as Json) : null;
  const c: Json = textConfig ? { ...root, ...textConfig } : root;
  const hidden = posInt(c.hidden_size) ?? posInt(c.d_model) ?? posInt(c.n_embd);
  const layers = posInt(c.num_hidden_layers) ?? posInt(c.n_layer) ?? posInt(c.num_layers);
  const vocab = posInt(c.vocab_size);
  const heads = posInt(c.num_attention_heads) ?? posInt(c.n_head);
  const missing = Object.entries({
    hidden_size: hidden,
    num_hidden_layers: layers,
    vocab_size: vocab,
    num_attention_heads: heads,
  })
    .filter(([, v]) => v === null)
    .map(([k]) => k);
  if (missing.length > 0 || !hidden || !layers || !vocab || !heads) {
    return { error: `config.json lacks ${missing.join(', ')}` };
  }
  const expertSize = posInt(c.moe_intermediate_size);
  const activeExperts = posInt(c.num_experts_per_tok);
  const dense = posInt(c.intermediate_size) ?? 4 * hidden;
  const moe = activeExperts !== null && (posInt(c.num_local_experts) ?? posInt(c.num_experts) ?? 0) > 1;
  const intermediate = moe ? activeExperts * (expertSize ?? dense) : dense;
  const headDim = posInt(c.head_dim) ?? Math.floor(hidden / heads);
  const q = (root.quantization ?? root.quantization_config) as Json | undefined;
  const bits = posInt(q?.bits);
  const caveats = [
    moe ? 'mixture of experts (active experts × expert size used)' : null,
    textConfig ? 'vision-language model (the vision tower is not counted)' : null,
  ].filter(Boolean);
  return {
    family: typeof root.model_type === 'string' && root.model_type ? root.model_type : 'unknown',
    hidden,
    layers,
    intermediate,
    vocab,
    heads,
    kvHeads: posInt(c.num_key_value_heads) ?? heads,
    headDim,
    // mlx-lm's model classes default to tied embeddings when config.json leaves the key out.
    tiedEmbeddings: c.tie_word_embeddings !== false,
    quantization: bits ? { bits, groupSize: posInt(q?.group_size) ?? 64 } : null,
    weightFileBytes,
    caveat: caveats.length > 0 ? caveats.join('; ') : null,
  };
}

/** P = V·H·(tied ? 1 : 2) + L·(2·H·Hq + 2·H·Hkv + 3·H·I): the parameter count the formula uses. */
export function parameterCount(m: ModelShape): number {
  const hq = m.heads * m.headDim;
  const hkv = m.kvHeads * m.headDim;
  return (
    m.vocab * m.hidden * (m.tiedEmbeddings ? 1 : 2) +
    m.layers * (2 * m.hidden * hq + 2 * m.hidden * hkv + 3 * m.hidden * m.intermediate)
  );
}
