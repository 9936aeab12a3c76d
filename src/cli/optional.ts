/**
 * Load an optional module of this package by its path relative to this file; `undefined` when it is
 * not there (a build without it), any other failure is thrown.
 */
export async function loadOptional<T>(relative: string): Promise<T | undefined> {
  try {
    return (await import(new URL(relative, import.meta.url).href)) as T;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}
