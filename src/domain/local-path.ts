// Whether a model-like request value (model, judge, reference_model_path) names a local folder rather than a
// Hugging Face repo id, by its look alone: the control plane's input checks and a remote worker's path check agree.
export function looksLikePath(value: string): boolean {
  return value.startsWith('/') || value.startsWith('.') || value.startsWith('~') || value.includes('\\');
}
