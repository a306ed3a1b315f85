//! The macro behind the step vocabulary table in `schema.rs`: from one line per step kind it
//! makes the `Step` enum, its YAML key (`kind`), where it may run (`runs_in`), the
//! deserializer for the one-key form (`- click: '#id'`) and `Step::VOCABULARY` for docs and
//! checks. Before it, each kind was spelled in five places.

/// Where a step may appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunsIn {
    /// Drives the browser: only in `steps`.
    Browser,
    /// Admin or mock-IdP action: in `setup` and in `steps`.
    Any,
}

macro_rules! step_vocabulary {
    ($( $tag:literal => $variant:ident($ty:ty), $runs:ident, $doc:literal; )*) => {
        /// One step of a scenario (see the vocabulary table in `schema.rs`).
        #[derive(Debug, Clone)]
        pub enum Step {
            $( #[doc = $doc] $variant($ty), )*
        }

        impl Step {
            /// Every step kind: YAML key, where it runs, description.
            pub const VOCABULARY: &'static [(&'static str, RunsIn, &'static str)] =
                &[ $( ($tag, RunsIn::$runs, $doc), )* ];

            /// The step's key as written in YAML.
            pub fn kind(&self) -> &'static str {
                match self { $( Step::$variant(_) => $tag, )* }
            }

            pub fn runs_in(&self) -> RunsIn {
                match self { $( Step::$variant(_) => RunsIn::$runs, )* }
            }
        }

        $crate::input::tagged::tagged_enum!(Step, "a step", { $( $tag => $variant($ty) ),* });
    };
}

pub(crate) use step_vocabulary;
