// How the server's names for profile colors and avatar presets look on screen.

import type { AvatarPreset, Color } from '../api/types';

export const COLOR_HEX: Record<Color, string> = {
  blue: '#5b8def',
  green: '#4cc38a',
  lavender: '#b7a6f0',
  purple: '#9a6af2',
  salmon: '#f59a8b',
  turquoise: '#3cc8c8',
  yellow: '#f2c94c',
};

export const COLOR_LABEL: Record<Color, string> = {
  blue: 'Blue',
  green: 'Green',
  lavender: 'Lavender',
  purple: 'Purple',
  salmon: 'Salmon',
  turquoise: 'Turquoise',
  yellow: 'Yellow',
};

export const AVATAR_LABEL: Record<AvatarPreset, string> = {
  bear: 'Bear',
  bird: 'Yellow bird',
  bird2: 'Blue bird',
  dog: 'Dog',
  dog2: 'Husky',
  dog3: 'Dalmatian',
  giraffe: 'Giraffe',
  hedgehog: 'Hedgehog',
  hippo: 'Hippo',
  horse: 'Horse',
  ibex: 'Ibex',
  jellyfish: 'Jellyfish',
  sheep: 'Sheep',
  tiger: 'Tiger',
};

export function colorHex(color: string): string {
  return COLOR_HEX[color as Color] ?? COLOR_HEX.purple;
}
