// Which data planes a control plane may configure: Kong's version rule and plugin-set rule, as pure functions.

export type Compatibility =
  | { compatible: true }
  | { compatible: false; reason: 'kong_version_incompatible' | 'plugin_set_incompatible'; message: string };

function majorMinor(version: string): [number, number] | null {
  const match = /^(\d+)\.(\d+)/.exec(version);
  return match ? [Number(match[1]), Number(match[2])] : null;
}

/** Different major, or a data plane newer (by minor) than its control plane, cannot be configured. */
export function checkVersion(cpVersion: string, dpVersion: string): Compatibility {
  const cp = majorMinor(cpVersion);
  const dp = majorMinor(dpVersion);
  if (!cp || !dp) {
    return {
      compatible: false,
      reason: 'kong_version_incompatible',
      message: `unparsable version '${dpVersion}'`,
    };
  }
  if (cp[0] !== dp[0]) {
    return {
      compatible: false,
      reason: 'kong_version_incompatible',
      message: `data plane major version ${dp[0]} differs from control plane major version ${cp[0]}`,
    };
  }
  if (dp[1] > cp[1]) {
    return {
      compatible: false,
      reason: 'kong_version_incompatible',
      message: `data plane minor version ${dp[1]} is newer than control plane minor version ${cp[1]}`,
    };
  }
  return { compatible: true };
}

/** Every plugin configured on the control plane must be present on the data plane. */
export function checkPlugins(configured: Iterable<string>, onDataPlane: Iterable<string>): Compatibility {
  const available = new Set(onDataPlane);
  const missing = [...new Set(configured)].filter((name) => !available.has(name)).sort();
  return missing.length === 0
    ? { compatible: true }
    : {
        compatible: false,
        reason: 'plugin_set_incompatible',
        message: `plugin${missing.length > 1 ? 's' : ''} ${missing.join(', ')} configured on the control plane but missing on the data plane`,
      };
}
