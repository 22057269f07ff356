//! The stable names of the crate's enums: one macro for `as_str`,
//! `Display`, `FromStr` and serde, instead of the same impls per enum.

/// `as_str`, `Display`, `FromStr` (the serialized names, errors naming the
/// known ones) and `ALL` (crate-private unless a visibility is given) for an
/// enum of unit variants.
macro_rules! serialized_names {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        $crate::names::serialized_names!(pub(crate) $ty, $what, { $($variant => $name),+ });
    };
    ($vis:vis $ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            #[allow(dead_code)]
            $vis const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The serialized name.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::ParseNameError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($name => Ok(Self::$variant),)+
                    _ => Err($crate::ParseNameError::new($what, text).known(&[$($name),+])),
                }
            }
        }
    };
}

/// `Serialize`/`Deserialize` as the stable name, through `as_str` and
/// `FromStr`.
macro_rules! serde_by_name {
    ($ty:ident) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <String as ::serde::Deserialize>::deserialize(deserializer)?.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use {serde_by_name, serialized_names};
