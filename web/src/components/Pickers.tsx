// Profile color and avatar preset choosers: native radio groups (arrow keys move the choice),
// drawn as swatches.

import { AVATAR_PRESETS, COLORS, type Color } from '../api/types';
import { AVATAR_LABEL, COLOR_HEX, COLOR_LABEL, colorHex } from '../domain/palette';
import { AvatarArt } from './AvatarArt';

export function ColorPicker({
  value,
  onChange,
  name = 'color',
  legend = 'Profile color',
  disabled = false,
}: {
  value: string;
  onChange: (color: Color) => void;
  name?: string;
  legend?: string;
  disabled?: boolean;
}) {
  return (
    <fieldset class="picker" disabled={disabled} data-testid="color-picker">
      <legend class="field__label">{legend}</legend>
      <div class="picker__options picker__options--colors">
        {COLORS.map((color) => (
          <label key={color} class="swatch" title={COLOR_LABEL[color]}>
            <input
              type="radio"
              name={name}
              value={color}
              checked={value === color}
              onChange={() => onChange(color)}
              class="visually-hidden"
            />
            <span class="swatch__color" style={{ background: COLOR_HEX[color] }} aria-hidden="true" />
            <span class="visually-hidden">{COLOR_LABEL[color]}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function AvatarPicker({
  value,
  color,
  onChange,
  name = 'avatar',
  legend = 'Avatar',
  disabled = false,
}: {
  value: string;
  color: string;
  onChange: (avatar: string) => void;
  name?: string;
  legend?: string;
  disabled?: boolean;
}) {
  return (
    <fieldset class="picker" disabled={disabled} data-testid="avatar-picker">
      <legend class="field__label">{legend}</legend>
      <div class="picker__options picker__options--avatars">
        {AVATAR_PRESETS.map((preset) => (
          <label key={preset} class="preset" title={AVATAR_LABEL[preset]}>
            <input
              type="radio"
              name={name}
              value={preset}
              checked={value === preset}
              onChange={() => onChange(preset)}
              class="visually-hidden"
            />
            <span class="preset__art" aria-hidden="true">
              <AvatarArt preset={preset} background={colorHex(color)} name={preset} />
            </span>
            <span class="visually-hidden">{AVATAR_LABEL[preset]}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}
