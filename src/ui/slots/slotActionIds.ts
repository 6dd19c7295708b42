/** The slot actions (src/ui/slots/slotActions.ts); package.json must declare exactly these. */
export const SlotActionCommands = {
  label: 'shadowSlots.labelSlot',
  restoreTo: 'shadowSlots.restoreSlotTo',
  repair: 'shadowSlots.repairSlot',
  delete: 'shadowSlots.deleteSlot',
} as const;
