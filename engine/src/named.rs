//! `named_enum!`: the one way this crate declares a closed set of named
//! values (decoder errors, end reasons, defragmentation drops, tunnel
//! kinds). One table row per variant gives its doc and its stable name;
//! the enum, its `ALL` list, the name method and the dense `index` that
//! per-variant counter arrays (`[u64; T::ALL.len()]`) are indexed by all
//! come from it, so a variant cannot be added to one and missed in another.
//!
//! A table may carry one more column, a `const` value per variant, read by
//! a method the table names (`fn is_truncation -> bool`, say).

/// Declares a fieldless enum from a table of `Variant => "name"` rows.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $ty:ident {
            $(#[doc = $name_doc:literal])*
            fn $name_fn:ident;
            $(
                $(#[doc = $doc:literal])*
                $variant:ident => $name:literal;
            )*
        }
    ) => {
        $(#[$meta])*
        $vis enum $ty {
            $($(#[doc = $doc])* $variant,)*
        }

        impl $ty {
            /// Every variant, in declaration order (the order of
            #[doc = concat!("[`", stringify!($ty), "::index`]).")]
            pub const ALL: [$ty; [$($ty::$variant),*].len()] = [$($ty::$variant),*];

            $(#[doc = $name_doc])*
            pub const fn $name_fn(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)*
                }
            }

            /// Dense index of this variant in
            #[doc = concat!("[`", stringify!($ty), "::ALL`].")]
            pub const fn index(self) -> usize {
                self as usize
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $ty:ident {
            $(#[doc = $name_doc:literal])*
            fn $name_fn:ident;
            $(#[doc = $extra_doc:literal])*
            fn $extra_fn:ident -> $extra_ty:ty;
            $(
                $(#[doc = $doc:literal])*
                $variant:ident => $name:literal, $extra:expr;
            )*
        }
    ) => {
        $crate::named::named_enum! {
            $(#[$meta])*
            $vis enum $ty {
                $(#[doc = $name_doc])*
                fn $name_fn;
                $($(#[doc = $doc])* $variant => $name;)*
            }
        }

        impl $ty {
            $(#[doc = $extra_doc])*
            pub const fn $extra_fn(self) -> $extra_ty {
                match self {
                    $($ty::$variant => $extra,)*
                }
            }
        }
    };
}

pub(crate) use named_enum;

#[cfg(test)]
mod tests {
    named_enum! {
        /// Test colours.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Colour {
            /// Lower-case name.
            fn name;
            /// Whether it is warm.
            fn warm -> bool;
            /// Red.
            Red => "red", true;
            /// Green.
            Green => "green", false;
            /// Blue.
            Blue => "blue", false;
        }
    }

    #[test]
    fn the_table_gives_every_method() {
        assert_eq!(Colour::ALL, [Colour::Red, Colour::Green, Colour::Blue]);
        let names: Vec<_> = Colour::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names, ["red", "green", "blue"]);
        for (i, c) in Colour::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
        }
        assert!(Colour::Red.warm() && !Colour::Blue.warm());
    }
}
