use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FieldError;

/// The fixed palette a profile color is chosen from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Color {
    Blue,
    Green,
    Lavender,
    Purple,
    Salmon,
    Turquoise,
    Yellow,
}

impl Color {
    pub const ALL: [Color; 7] = [
        Color::Blue,
        Color::Green,
        Color::Lavender,
        Color::Purple,
        Color::Salmon,
        Color::Turquoise,
        Color::Yellow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Color::Blue => "blue",
            Color::Green => "green",
            Color::Lavender => "lavender",
            Color::Purple => "purple",
            Color::Salmon => "salmon",
            Color::Turquoise => "turquoise",
            Color::Yellow => "yellow",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == raw)
            .ok_or_else(|| {
                FieldError::new(
                    "color",
                    "unknown",
                    format!(
                        "must be one of: {}",
                        Self::ALL.map(|c| c.as_str()).join(", ")
                    ),
                )
            })
    }

    /// A deterministic pick for a new account, so registrations need not choose.
    pub fn for_seed(seed: u128) -> Self {
        Self::ALL[(seed % Self::ALL.len() as u128) as usize]
    }
}

/// The built-in avatar pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AvatarPreset {
    Bear,
    Bird,
    Bird2,
    Dog,
    Dog2,
    Dog3,
    Giraffe,
    Hedgehog,
    Hippo,
    Horse,
    Ibex,
    Jellyfish,
    Sheep,
    Tiger,
}

impl AvatarPreset {
    pub const ALL: [AvatarPreset; 14] = [
        AvatarPreset::Bear,
        AvatarPreset::Bird,
        AvatarPreset::Bird2,
        AvatarPreset::Dog,
        AvatarPreset::Dog2,
        AvatarPreset::Dog3,
        AvatarPreset::Giraffe,
        AvatarPreset::Hedgehog,
        AvatarPreset::Hippo,
        AvatarPreset::Horse,
        AvatarPreset::Ibex,
        AvatarPreset::Jellyfish,
        AvatarPreset::Sheep,
        AvatarPreset::Tiger,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AvatarPreset::Bear => "bear",
            AvatarPreset::Bird => "bird",
            AvatarPreset::Bird2 => "bird2",
            AvatarPreset::Dog => "dog",
            AvatarPreset::Dog2 => "dog2",
            AvatarPreset::Dog3 => "dog3",
            AvatarPreset::Giraffe => "giraffe",
            AvatarPreset::Hedgehog => "hedgehog",
            AvatarPreset::Hippo => "hippo",
            AvatarPreset::Horse => "horse",
            AvatarPreset::Ibex => "ibex",
            AvatarPreset::Jellyfish => "jellyfish",
            AvatarPreset::Sheep => "sheep",
            AvatarPreset::Tiger => "tiger",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == raw)
            .ok_or_else(|| {
                FieldError::new(
                    "avatar",
                    "unknown",
                    format!(
                        "must be one of: {}",
                        Self::ALL.map(|a| a.as_str()).join(", ")
                    ),
                )
            })
    }

    pub fn for_seed(seed: u128) -> Self {
        Self::ALL[(seed % Self::ALL.len() as u128) as usize]
    }
}

/// What a profile shows as its picture: a preset, or an image the user uploaded (by asset key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Avatar {
    Preset(AvatarPreset),
    Uploaded(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_parses_only_the_palette() {
        assert_eq!(Color::parse("salmon").unwrap(), Color::Salmon);
        let err = Color::parse("red").unwrap_err();
        assert_eq!(err.field, "color");
        assert!(err.message.contains("turquoise"));
        assert!(Color::parse("Blue").is_err());
    }

    #[test]
    fn every_preset_round_trips_through_its_name() {
        for a in AvatarPreset::ALL {
            assert_eq!(AvatarPreset::parse(a.as_str()).unwrap(), a);
        }
        assert_eq!(AvatarPreset::parse("custom").unwrap_err().field, "avatar");
    }

    #[test]
    fn seeded_picks_stay_in_range() {
        for seed in [0u128, 6, 7, 13, u128::MAX] {
            Color::for_seed(seed);
            AvatarPreset::for_seed(seed);
        }
    }
}
