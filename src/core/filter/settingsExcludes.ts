/** The pseudo file name of rules that come from the settings' exclude list, not from a filter file. */
export const SETTINGS_EXCLUDES = '<settings: excludes>';
