// One strict Handlebars environment: no HTML escaping, unknown fields fail, only known helpers.
import Handlebars from 'handlebars';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT } from './repoRoot.ts';

export const TEMPLATES_DIR = join(REPO_ROOT, 'templates');

const env = Handlebars.create();
env.registerHelper('join', (values: unknown[], sep: string) => values.join(sep));
for (const file of readdirSync(join(TEMPLATES_DIR, 'partials'))) {
  if (file.endsWith('.hbs')) env.registerPartial(basename(file, '.hbs'), readFileSync(join(TEMPLATES_DIR, 'partials', file), 'utf8'));
}

const cache = new Map<string, Handlebars.TemplateDelegate>();

/** Renders templates/<path> with `context`; a missing field is an error, not an empty string. */
export function renderTemplate(path: string, context: object): string {
  let t = cache.get(path);
  if (!t) {
    t = env.compile(readFileSync(join(TEMPLATES_DIR, path), 'utf8'), {
      strict: true,
      noEscape: true,
      knownHelpers: { join: true },
      knownHelpersOnly: true,
    });
    cache.set(path, t);
  }
  return t(context);
}
