// The avatar presets, drawn here: one 64×64 sticker per animal, on the profile color.
// No image files and nothing fetched, so every preset looks the same everywhere.

import type { JSX } from 'preact';
import type { AvatarPreset } from '../api/types';

const INK = '#1d1b26';
const line = { stroke: INK, 'stroke-width': 2, 'stroke-linejoin': 'round' as const };

function Eyes({ y = 30, dx = 7, cx = 32, r = 2.4 }: { y?: number; dx?: number; cx?: number; r?: number }) {
  return (
    <g fill={INK}>
      <circle cx={cx - dx} cy={y} r={r} />
      <circle cx={cx + dx} cy={y} r={r} />
    </g>
  );
}

const ART: Record<AvatarPreset, () => JSX.Element> = {
  bear: () => (
    <g>
      <circle cx="17" cy="19" r="7.5" fill="#a0653f" {...line} />
      <circle cx="47" cy="19" r="7.5" fill="#a0653f" {...line} />
      <circle cx="17" cy="19" r="3.5" fill="#f0cfa8" />
      <circle cx="47" cy="19" r="3.5" fill="#f0cfa8" />
      <circle cx="32" cy="35" r="19" fill="#b47548" {...line} />
      <ellipse cx="32" cy="42" rx="9.5" ry="7.5" fill="#f0cfa8" />
      <ellipse cx="32" cy="38.5" rx="3.6" ry="2.6" fill={INK} />
      <path d="M32 41v3m-3 1.5q3 2 6 0" stroke={INK} stroke-width="1.6" fill="none" stroke-linecap="round" />
      <Eyes y={30} dx={7.5} />
    </g>
  ),
  bird: () => (
    <g>
      <path d="M27 14q4-6 9-2q-5 0-6 5z" fill="#f08a24" {...line} />
      <circle cx="31" cy="35" r="18" fill="#ffd54a" {...line} />
      <path d="M19 38q-6 8 4 12q4-6 2-12z" fill="#f4b73a" {...line} />
      <path d="M47 32l10 3.5l-10 3.5z" fill="#f08a24" {...line} />
      <circle cx="38" cy="29" r="2.6" fill={INK} />
      <circle cx="40" cy="38" r="2.6" fill="#ff9f9f" opacity="0.8" />
    </g>
  ),
  bird2: () => (
    <g>
      <path d="M36 15q-2-7 5-7q-2 4 0 8z" fill="#2f6fb5" {...line} />
      <circle cx="33" cy="35" r="18" fill="#5aa9e6" {...line} />
      <ellipse cx="35" cy="41" rx="10" ry="9" fill="#e8f4ff" />
      <path d="M17 32l-10 3.5l10 3.5z" fill="#f5a623" {...line} />
      <circle cx="26" cy="29" r="2.6" fill={INK} />
      <path d="M42 36q8 2 6 12q-6-4-8-10z" fill="#2f6fb5" {...line} />
    </g>
  ),
  dog: () => (
    <g>
      <ellipse cx="14.5" cy="31" rx="6.5" ry="13" transform="rotate(18 14.5 31)" fill="#8a5a3c" {...line} />
      <ellipse cx="49.5" cy="31" rx="6.5" ry="13" transform="rotate(-18 49.5 31)" fill="#8a5a3c" {...line} />
      <ellipse cx="32" cy="34" rx="16" ry="18" fill="#e2b07a" {...line} />
      <ellipse cx="32" cy="43" rx="9" ry="7" fill="#f6dcc0" />
      <ellipse cx="32" cy="39" rx="4" ry="3" fill={INK} />
      <path d="M29.5 45q2.5 4 5 0" fill="#f26d7d" stroke={INK} stroke-width="1.4" />
      <Eyes y={30} dx={7} />
    </g>
  ),
  dog2: () => (
    <g>
      <path d="M13 27l4-17l12 10z" fill="#6f7a88" {...line} />
      <path d="M51 27l-4-17l-12 10z" fill="#6f7a88" {...line} />
      <path d="M16.5 21l1.5-7l5 4z" fill="#f3c1c6" />
      <path d="M47.5 21l-1.5-7l-5 4z" fill="#f3c1c6" />
      <ellipse cx="32" cy="35" rx="18" ry="17" fill="#6f7a88" {...line} />
      <path d="M32 22q-4 8-13 10q2 16 13 17q11-1 13-17q-9-2-13-10z" fill="#f4f6f8" />
      <ellipse cx="32" cy="40" rx="3.8" ry="2.8" fill={INK} />
      <path d="M32 43v2.5m-3.5 1q3.5 2.5 7 0" stroke={INK} stroke-width="1.5" fill="none" stroke-linecap="round" />
      <g fill="#4a90d9" stroke={INK} stroke-width="1.2">
        <circle cx="25" cy="32" r="2.6" />
        <circle cx="39" cy="32" r="2.6" />
      </g>
    </g>
  ),
  dog3: () => (
    <g>
      <ellipse cx="15" cy="32" rx="6" ry="12" transform="rotate(15 15 32)" fill="#2b2a33" {...line} />
      <ellipse cx="49" cy="32" rx="6" ry="12" transform="rotate(-15 49 32)" fill="#2b2a33" {...line} />
      <ellipse cx="32" cy="34" rx="16" ry="18" fill="#fbfbfb" {...line} />
      <g fill="#2b2a33">
        <circle cx="24" cy="22" r="2.6" />
        <circle cx="41" cy="24" r="2" />
        <circle cx="21" cy="41" r="1.8" />
        <circle cx="43" cy="43" r="2.4" />
        <circle cx="36" cy="19.5" r="1.6" />
      </g>
      <ellipse cx="32" cy="40" rx="4" ry="3" fill={INK} />
      <path d="M29.5 45.5q2.5 3.5 5 0" fill="#f26d7d" stroke={INK} stroke-width="1.4" />
      <Eyes y={31} dx={7} />
    </g>
  ),
  giraffe: () => (
    <g>
      <path d="M25 18l-2-9m16 9l2-9" stroke={INK} stroke-width="2.6" stroke-linecap="round" />
      <circle cx="23" cy="9" r="3" fill="#8a5a2b" {...line} />
      <circle cx="41" cy="9" r="3" fill="#8a5a2b" {...line} />
      <ellipse cx="14" cy="24" rx="6" ry="3.5" transform="rotate(-20 14 24)" fill="#f2b84b" {...line} />
      <ellipse cx="50" cy="24" rx="6" ry="3.5" transform="rotate(20 50 24)" fill="#f2b84b" {...line} />
      <path d="M18 30q0-14 14-14q14 0 14 14v12q0 12-14 12q-14 0-14-12z" fill="#f2b84b" {...line} />
      <g fill="#b8742f">
        <circle cx="23" cy="22" r="3" />
        <circle cx="42" cy="21" r="2.4" />
        <circle cx="21" cy="36" r="2" />
        <circle cx="43" cy="35" r="2.6" />
      </g>
      <ellipse cx="32" cy="46" rx="11" ry="7" fill="#f7d9a3" {...line} />
      <g fill={INK}>
        <circle cx="28" cy="45" r="1.5" />
        <circle cx="36" cy="45" r="1.5" />
      </g>
      <Eyes y={30} dx={7} />
    </g>
  ),
  hedgehog: () => (
    <g>
      <path
        d="M8 42l3-9l-4-6l7-3l-1-8l8 1l3-7l7 4l6-5l4 7l8-2l0 8l7 2l-3 7l4 6z"
        fill="#7a5238"
        {...line}
      />
      <path d="M14 42q2-14 18-14q16 0 18 14q-2 12-18 12q-16 0-18-12z" fill="#f1d2ab" {...line} />
      <ellipse cx="32" cy="44" rx="3.4" ry="2.6" fill={INK} />
      <Eyes y={38} dx={8} r={2.2} />
      <g fill="#ff9f9f" opacity="0.75">
        <circle cx="20" cy="44" r="2.6" />
        <circle cx="44" cy="44" r="2.6" />
      </g>
    </g>
  ),
  hippo: () => (
    <g>
      <ellipse cx="19" cy="17" rx="4" ry="5" fill="#8d7fa8" {...line} />
      <ellipse cx="45" cy="17" rx="4" ry="5" fill="#8d7fa8" {...line} />
      <ellipse cx="32" cy="29" rx="15" ry="13" fill="#9d90b8" {...line} />
      <ellipse cx="32" cy="43" rx="20" ry="12" fill="#b3a7cc" {...line} />
      <g fill={INK}>
        <ellipse cx="25" cy="40" rx="2.4" ry="3.2" />
        <ellipse cx="39" cy="40" rx="2.4" ry="3.2" />
      </g>
      <path d="M24 48q8 4 16 0" stroke={INK} stroke-width="1.6" fill="none" stroke-linecap="round" />
      <Eyes y={26} dx={7} />
    </g>
  ),
  horse: () => (
    <g>
      <path d="M21 16l2-9l6 7z" fill="#7b4a2a" {...line} />
      <path d="M43 16l-2-9l-6 7z" fill="#7b4a2a" {...line} />
      <path d="M20 24q0-12 12-12q12 0 12 12v16q0 14-12 14q-12 0-12-14z" fill="#9b5f36" {...line} />
      <path d="M25 10q7-4 14 0q-3 6-7 8q-4-2-7-8z" fill="#3a2a22" {...line} />
      <path d="M32 20l-2 14h4z" fill="#fff3e3" />
      <ellipse cx="32" cy="46" rx="10" ry="7" fill="#c98d64" {...line} />
      <g fill={INK}>
        <ellipse cx="28" cy="46" rx="1.6" ry="2.2" />
        <ellipse cx="36" cy="46" rx="1.6" ry="2.2" />
      </g>
      <Eyes y={29} dx={8} />
    </g>
  ),
  ibex: () => (
    <g>
      <path d="M26 20q-10-6-10-16q6 2 7 10" fill="none" stroke="#6b5640" stroke-width="5" stroke-linecap="round" />
      <path d="M38 20q10-6 10-16q-6 2-7 10" fill="none" stroke="#6b5640" stroke-width="5" stroke-linecap="round" />
      <ellipse cx="14" cy="28" rx="6" ry="3" transform="rotate(-15 14 28)" fill="#c9a27a" {...line} />
      <ellipse cx="50" cy="28" rx="6" ry="3" transform="rotate(15 50 28)" fill="#c9a27a" {...line} />
      <path d="M20 28q0-10 12-10q12 0 12 10v10q0 12-12 12q-12 0-12-12z" fill="#c9a27a" {...line} />
      <path d="M28 48q4 12 8 0z" fill="#7d6650" {...line} />
      <ellipse cx="32" cy="42" rx="6" ry="4" fill="#e6cfb4" />
      <g fill={INK}>
        <circle cx="30" cy="41.5" r="1.2" />
        <circle cx="34" cy="41.5" r="1.2" />
      </g>
      <Eyes y={31} dx={6.5} />
    </g>
  ),
  jellyfish: () => (
    <g>
      <g fill="none" stroke="#c565c9" stroke-width="2.4" stroke-linecap="round">
        <path d="M20 38q-3 5 0 9q3 4 0 9" />
        <path d="M28 39q-3 5 0 9q3 4 0 8" />
        <path d="M36 39q3 5 0 9q-3 4 0 8" />
        <path d="M44 38q3 5 0 9q-3 4 0 9" />
      </g>
      <path d="M12 38q0-24 20-24q20 0 20 24q-5 3-10 0q-5 3-10 0q-5 3-10 0q-5 3-10 0z" fill="#f08fd6" {...line} />
      <ellipse cx="24" cy="22" rx="4" ry="2.5" fill="#ffffff" opacity="0.55" />
      <Eyes y={30} dx={6} />
      <path d="M29 33.5q3 2.5 6 0" stroke={INK} stroke-width="1.6" fill="none" stroke-linecap="round" />
    </g>
  ),
  sheep: () => (
    <g>
      <g fill="#fbfaf6" {...line}>
        <circle cx="20" cy="22" r="8" />
        <circle cx="32" cy="17" r="8.5" />
        <circle cx="44" cy="22" r="8" />
        <circle cx="16" cy="35" r="7.5" />
        <circle cx="48" cy="35" r="7.5" />
        <circle cx="22" cy="46" r="7.5" />
        <circle cx="42" cy="46" r="7.5" />
        <circle cx="32" cy="49" r="7.5" />
      </g>
      <circle cx="32" cy="33" r="15" fill="#fbfaf6" />
      <ellipse cx="14" cy="31" rx="6" ry="3" transform="rotate(-25 14 31)" fill="#3b3540" {...line} />
      <ellipse cx="50" cy="31" rx="6" ry="3" transform="rotate(25 50 31)" fill="#3b3540" {...line} />
      <ellipse cx="32" cy="36" rx="11" ry="13" fill="#3b3540" {...line} />
      <g fill="#ffffff">
        <circle cx="27.5" cy="33" r="2.4" />
        <circle cx="36.5" cy="33" r="2.4" />
      </g>
      <g fill={INK}>
        <circle cx="27.5" cy="33.4" r="1.3" />
        <circle cx="36.5" cy="33.4" r="1.3" />
      </g>
      <path d="M29 42.5q3 2.5 6 0" stroke="#f3c1c6" stroke-width="1.6" fill="none" stroke-linecap="round" />
    </g>
  ),
  tiger: () => (
    <g>
      <circle cx="16" cy="18" r="7" fill="#f08a24" {...line} />
      <circle cx="48" cy="18" r="7" fill="#f08a24" {...line} />
      <circle cx="16" cy="18" r="3.2" fill="#fff3e3" />
      <circle cx="48" cy="18" r="3.2" fill="#fff3e3" />
      <circle cx="32" cy="35" r="19" fill="#f39a34" {...line} />
      <g fill={INK}>
        <path d="M32 16.5l-3 7h6z" />
        <path d="M14 31l8 2l-8 3z" />
        <path d="M50 31l-8 2l8 3z" />
        <path d="M15 40l7 0l-6 3z" />
        <path d="M49 40l-7 0l6 3z" />
      </g>
      <ellipse cx="32" cy="43" rx="10" ry="7.5" fill="#fff3e3" />
      <path d="M29 38.5h6l-3 3z" fill={INK} />
      <path d="M32 41.5v2.5m-3.5 1q3.5 2 7 0" stroke={INK} stroke-width="1.5" fill="none" stroke-linecap="round" />
      <g fill="#3c8f3a" stroke={INK} stroke-width="1.2">
        <circle cx="25" cy="30" r="2.6" />
        <circle cx="39" cy="30" r="2.6" />
      </g>
    </g>
  ),
};

export function hasArt(preset: string): preset is AvatarPreset {
  return Object.prototype.hasOwnProperty.call(ART, preset);
}

/** A preset drawn on `background`; unknown presets fall back to the first letter of `name`. */
export function AvatarArt({ preset, background, name }: { preset: string; background: string; name: string }) {
  const Art = hasArt(preset) ? ART[preset] : null;
  return (
    <svg viewBox="0 0 64 64" aria-hidden="true" focusable="false" class="avatar-art">
      <circle cx="32" cy="32" r="32" fill={background} />
      {Art ? (
        <Art />
      ) : (
        <text x="32" y="42" text-anchor="middle" font-size="28" font-weight="700" fill={INK}>
          {name.slice(0, 1).toUpperCase()}
        </text>
      )}
    </svg>
  );
}
