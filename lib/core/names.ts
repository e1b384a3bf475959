// Providers spell their event values PRESENT_CARD, PresentCard or present-card; the pack's
// progress and notification events use one stable lower_snake_case name for all of them.

export function eventName(value: string): string {
  return value
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}
