//! The [`Layer`](crate::layers::Layer) implementation `Attention` and `AdditiveAttention` share.

/// Implements [`Layer`](crate::layers::Layer) for a layer holding a [`Scored`](super::scored::Scored) in its field
/// `inner`: the single-input calls refuse, the calls on a list run the shared computation.
macro_rules! scored_layer {
    ($layer:ty, $class:literal) => {
        impl $crate::layers::Layer for $layer {
            fn class_name(&self) -> &'static str {
                $class
            }

            fn get_config(&self) -> Option<$crate::saving::Config> {
                Some(self.inner.config())
            }

            fn base(&self) -> &$crate::layers::LayerBase {
                &self.inner.base
            }

            fn base_mut(&mut self) -> &mut $crate::layers::LayerBase {
                &mut self.inner.base
            }

            fn build(
                &mut self,
                _input_shape: &[usize],
                _rng: &mut rand::rngs::StdRng,
            ) -> $crate::Result<Vec<usize>> {
                Err($crate::layers::multi_input::takes_a_list(
                    &self.inner.base.name,
                    $class,
                    "[query, value] or [query, value, key]",
                ))
            }

            fn forward(
                &mut self,
                _input: ndarray::ArrayViewD<'_, f32>,
                _mask: Option<&$crate::layers::Mask>,
                _training: bool,
            ) -> $crate::Result<ndarray::ArrayD<f32>> {
                Err($crate::layers::multi_input::takes_a_list(
                    &self.inner.base.name,
                    $class,
                    "[query, value] or [query, value, key]",
                ))
            }

            fn backward(
                &mut self,
                _grad_output: ndarray::ArrayViewD<'_, f32>,
                _input_grad: bool,
            ) -> $crate::Result<Option<ndarray::ArrayD<f32>>> {
                Err($crate::layers::multi_input::takes_a_list(
                    &self.inner.base.name,
                    $class,
                    "[query, value] or [query, value, key]",
                ))
            }

            fn build_multi(
                &mut self,
                input_shapes: &[Vec<usize>],
                rng: &mut rand::rngs::StdRng,
            ) -> $crate::Result<Vec<Vec<usize>>> {
                self.inner.build_multi(input_shapes, rng)
            }

            fn forward_multi(
                &mut self,
                inputs: &[ndarray::ArrayViewD<'_, f32>],
                masks: &[Option<&$crate::layers::Mask>],
                training: bool,
            ) -> $crate::Result<Vec<ndarray::ArrayD<f32>>> {
                self.inner.forward_multi(inputs, masks, training)
            }

            fn backward_multi(
                &mut self,
                grad_outputs: &[ndarray::ArrayViewD<'_, f32>],
                input_grads: bool,
            ) -> $crate::Result<Vec<Option<ndarray::ArrayD<f32>>>> {
                self.inner.backward_multi(grad_outputs, input_grads)
            }

            fn compute_mask_multi(
                &self,
                inputs: &[ndarray::ArrayViewD<'_, f32>],
                masks: &[Option<&$crate::layers::Mask>],
            ) -> $crate::Result<Vec<Option<$crate::layers::Mask>>> {
                self.inner.compute_mask_multi(inputs, masks)
            }

            fn take_forward_cache(&mut self) -> Option<$crate::layers::ForwardCache> {
                self.inner.take_forward_cache()
            }

            fn put_forward_cache(
                &mut self,
                cache: $crate::layers::ForwardCache,
            ) -> $crate::Result<()> {
                self.inner.put_forward_cache(cache)
            }

            fn params(&self) -> Vec<&$crate::layers::Param> {
                self.inner.weights.iter().collect()
            }

            fn params_mut(&mut self) -> Vec<&mut $crate::layers::Param> {
                self.inner.weights.iter_mut().collect()
            }

            fn generator_states(&self) -> Vec<$crate::layers::GeneratorState> {
                self.inner.generator_states()
            }

            fn set_generator_states(
                &mut self,
                states: Vec<$crate::layers::GeneratorState>,
            ) -> $crate::Result<()> {
                self.inner.set_generator_states(states)
            }
        }
    };
}
pub(crate) use scored_layer;
