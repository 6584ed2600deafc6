//! The `contract!` and `event!` macros and the `const fn`s they use.
//!
//! Both are `macro_rules!` macros, so a contract builds on stable Rust with
//! no procedural-macro dependency. Each builds two strings with `concat!`
//! and `stringify!`: the *signature* (`transfer(Address,u128,)`, normalized
//! by [`avm_abi::selector`] when hashed) and a *metadata line*
//! (`fn transfer(to:Address,amount:u128,)->bool`), which goes into the ELF
//! section `.avm_abi` as a byte array. The linker script keeps that section
//! in the file without loading it.

/// Length of a metadata string, for the array type of its static.
pub const fn abi_len(s: &str) -> usize {
    s.len()
}

/// A metadata string as a byte array (a `static` in a link section must be
/// an array, not a reference).
pub const fn abi_bytes<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = b[i];
        i += 1;
    }
    out
}

/// `a == b` for strings, in a `const`.
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Declare a contract's methods.
///
/// ```ignore
/// avm_sdk::contract! {
///     fn init(supply: u128) { TOTAL.set(&supply); }
///     fn total() -> u128 { TOTAL.get() }
/// }
/// ```
///
/// Each `fn` becomes a method whose selector is derived from its name and
/// argument types. `init`, if present, is the constructor: it runs once, at
/// deployment, and can never be called afterwards. A method without `->`
/// returns nothing. Arguments that do not decode, and unknown selectors,
/// revert with a message.
#[macro_export]
macro_rules! contract {
    ($( $(#[$attr:meta])* fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) $(-> $ret:ty)? $body:block )*) => {
        $( $(#[$attr])* fn $name( $($arg: $ty),* ) $(-> $ret)? $body )*

        const _: () = {
            const TEXT: &str = concat!($(
                "fn ", stringify!($name), "(", $( stringify!($arg), ":", stringify!($ty), ",", )* ")",
                $( "->", stringify!($ret), )? "\n",
            )*);
            #[link_section = ".avm_abi"]
            #[used]
            static ABI: [u8; $crate::macros::abi_len(TEXT)] = $crate::macros::abi_bytes(TEXT);
        };

        #[no_mangle]
        extern "C" fn avm_main() -> ! {
            // The constructor's selector, computed by the compiler.
            const INIT: Option<[u8; 4]> = {
                #[allow(unused_mut)]
                let mut init = None;
                $(
                    if $crate::macros::str_eq(stringify!($name), "init") {
                        init = Some($crate::selector(concat!(stringify!($name), "(", $( stringify!($ty), ",", )* ")")));
                    }
                )*
                init
            };
            $crate::rt::main(INIT, |selector, args| {
                $(
                    {
                        const SELECTOR: [u8; 4] =
                            $crate::selector(concat!(stringify!($name), "(", $( stringify!($ty), ",", )* ")"));
                        if selector == SELECTOR {
                            #[allow(unused_parens)]
                            let ( $($arg,)* ): ( $($ty,)* ) = $crate::rt::decode_args(args);
                            #[allow(clippy::let_unit_value)]
                            let out = $name( $($arg),* );
                            return Some($crate::rt::encode_return(&out));
                        }
                    }
                )*
                let _ = args;
                None
            })
        }
    };
}

/// Declare an event. Fields marked `#[indexed]` become topics (their
/// encoding must fit 32 bytes); the others are the log data.
///
/// ```ignore
/// avm_sdk::event! {
///     Transfer { #[indexed] from: Address, #[indexed] to: Address, amount: u128 }
/// }
/// Transfer { from, to, amount }.emit();
/// ```
#[macro_export]
macro_rules! event {
    ($name:ident { $( $(#[$marker:ident])? $field:ident : $ty:ty ),* $(,)? }) => {
        #[doc = concat!("The `", stringify!($name), "` event.")]
        pub struct $name { $( #[allow(missing_docs)] pub $field: $ty ),* }

        impl $name {
            /// The event id: topic 0 of its logs.
            pub const ID: [u8; 32] = $crate::event_id(concat!(stringify!($name), "(", $( stringify!($ty), ",", )* ")"));

            /// Log this event.
            pub fn emit(&self) {
                let mut topics = $crate::event::Topics::new(Self::ID);
                let mut data = $crate::Vec::new();
                $( $crate::__event_field!(topics, data, self.$field $(, $marker)?); )*
                $crate::event::emit(&topics, &data);
            }
        }

        const _: () = {
            const TEXT: &str = concat!(
                "event ", stringify!($name), "(",
                $( $( $crate::__indexed_mark!($marker), )? stringify!($field), ":", stringify!($ty), ",", )*
                ")\n"
            );
            #[link_section = ".avm_abi"]
            #[used]
            static ABI: [u8; $crate::macros::abi_len(TEXT)] = $crate::macros::abi_bytes(TEXT);
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __indexed_mark {
    (indexed) => {
        "#"
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __event_field {
    ($topics:ident, $data:ident, $value:expr, indexed) => {
        $topics.push(&$value)
    };
    ($topics:ident, $data:ident, $value:expr) => {
        $crate::Encode::encode(&$value, &mut $data)
    };
}
