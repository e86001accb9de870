// The C ABI entry points every generated library exports (declared by its mlagen.h). A library that
// holds several variants (the dispatcher, the torch package) renames each variant's copies.
export const ENTRY_POINTS = [
  'mlagen_variant_id',
  'mlagen_last_error',
  'mlagen_num_sm_parts',
  'mlagen_workspace_bytes',
  'mlagen_get_metadata',
  'mlagen_decode',
] as const;
export type EntryPoint = (typeof ENTRY_POINTS)[number];

/** The name a variant's copy of an entry point gets inside a multi-variant library. */
export const renamedEntryPoint = (variantId: string, entry: string) => `${variantId}_${entry}`;

/** A variant's renamed entry points by role (templates/partials/renamed_entry_points.hbs declares them). */
export function entryPointSymbols(variantId: string) {
  const r = (entry: EntryPoint) => renamedEntryPoint(variantId, entry);
  return {
    variantId: r('mlagen_variant_id'),
    lastError: r('mlagen_last_error'),
    numSmParts: r('mlagen_num_sm_parts'),
    workspaceBytes: r('mlagen_workspace_bytes'),
    getMetadata: r('mlagen_get_metadata'),
    decode: r('mlagen_decode'),
  };
}
