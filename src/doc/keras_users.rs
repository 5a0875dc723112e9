//! Coming from Keras: the lesson's Keras program and its rnnkit twin, line by line, then the
//! names and defaults that differ and why.
//!
//! rnnkit keeps Keras' concepts, argument names, defaults and numbers: a Keras user should be
//! able to read an rnnkit program without a dictionary. What changes is what Rust changes
//! (types instead of strings, `Result` instead of exceptions, builders instead of keyword
//! arguments) and a few deliberate choices listed in [the last table](#names-and-defaults-that-differ-and-why).
//!
//! # The lesson's program, line by line
//!
//! | | Keras (the lesson) | rnnkit |
//! |---|---|---|
//! | imports | `from keras.models import Sequential` <br> `from keras.layers import Embedding, SimpleRNN, Dense, Flatten` <br> `from keras import optimizers` | `use rnnkit::prelude::*;` |
//! | model | `model = Sequential()` | `let mut model = Sequential::new();` |
//! | embedding | `model.add(Embedding(10000, 32, input_length=500))` | `model.add(Embedding::new(10_000, 32).input_length(500));` |
//! | recurrent layer | `model.add(SimpleRNN(32, return_sequences=False))` | `model.add(SimpleRnn::new(32).return_sequences(false));` |
//! | classifier | `model.add(Dense(1, activation='sigmoid'))` | `model.add(Dense::new(1).activation(Activation::Sigmoid));` |
//! | summary | `model.summary()` | `println!("{}", model.summary()?);` |
//! | compile | `model.compile(optimizer=optimizers.RMSprop(lr=0.001),` <br> `loss='binary_crossentropy', metrics=['acc'])` | `model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;` |
//! | fit | `history = model.fit(x_train, y_train, epochs=3, batch_size=32,` <br> `validation_data=(x_valid, y_valid))` | `let config = FitConfig { epochs: 3, batch_size: 32,` <br> `validation_data: Some((x_valid.into_dyn(), y_valid.into_dyn())), ..FitConfig::default() };` <br> `let history = model.fit(&x_train, &y_train, &config)?;` |
//! | history | `history.history['val_acc']` | `history.metric("val_accuracy")` |
//! | evaluate | `loss_and_acc = model.evaluate(x_test, y_test)` | `let scores = model.evaluate(&x_test, &y_test)?;` |
//! | read the scores | `loss_and_acc[0]`, `loss_and_acc[1]` | `scores.loss`, `scores.metric("accuracy")` |
//! | predict | `model.predict(x)` | `model.predict(&x)?` |
//!
//! The lesson's many-to-many variant keeps every state h_0..h_T and flattens them before the
//! classifier:
//!
//! | | Keras | rnnkit |
//! |---|---|---|
//! | all the states | `model.add(SimpleRNN(32, return_sequences=True))` | `model.add(SimpleRnn::new(32).return_sequences(true));` |
//! | flatten | `model.add(Flatten())` | `model.add(Flatten::new());` |
//! | classifier | `model.add(Dense(1, activation='sigmoid'))` | `model.add(Dense::new(1).activation(Activation::Sigmoid));` |
//!
//! # The whole program
//!
//! In Keras, once `x_train`, `y_train`, `x_valid`, `y_valid`, `x_test` and `y_test` hold the
//! padded reviews and their labels:
//!
//! ```python
//! from keras.models import Sequential
//! from keras.layers import Embedding, SimpleRNN, Dense
//! from keras import optimizers
//!
//! model = Sequential()
//! model.add(Embedding(10000, 32, input_length=500))
//! model.add(SimpleRNN(32, return_sequences=False))
//! model.add(Dense(1, activation='sigmoid'))
//! model.summary()
//!
//! model.compile(optimizer=optimizers.RMSprop(lr=0.001),
//!               loss='binary_crossentropy', metrics=['acc'])
//! history = model.fit(x_train, y_train, epochs=3, batch_size=32,
//!                     validation_data=(x_valid, y_valid))
//! loss_and_acc = model.evaluate(x_test, y_test)
//! print('loss = ' + str(loss_and_acc[0]))
//! print('acc = ' + str(loss_and_acc[1]))
//! ```
//!
//! In rnnkit, with a few random reviews standing in for IMDB so that the program runs in a
//! moment (the real data: [`datasets::imdb`](crate::datasets::imdb) and
//! the sentiment example's `prepare` in `examples/sentiment/pipeline.rs`, run by
//! `cargo run --release --example sentiment`):
//!
//! ```
//! use ndarray::{Array1, Array2};
//! use rand::rngs::StdRng;
//! use rand::{Rng, SeedableRng};
//! use rnnkit::prelude::*;
//!
//! # fn main() -> rnnkit::Result<()> {
//! let mut rng = StdRng::seed_from_u64(7);
//! let mut reviews = |n: usize| -> (Array2<f32>, Array1<f32>) {
//!     let x = Array2::from_shape_fn((n, 500), |_| rng.gen_range(0..10_000) as f32);
//!     let y = Array1::from_shape_fn(n, |_| rng.gen_range(0..2) as f32);
//!     (x, y)
//! };
//! let ((x_train, y_train), (x_valid, y_valid), (x_test, y_test)) =
//!     (reviews(64), reviews(16), reviews(16));
//!
//! let mut model = Sequential::new();
//! model.add(Embedding::new(10_000, 32).input_length(500));
//! model.add(SimpleRnn::new(32).return_sequences(false));
//! model.add(Dense::new(1).activation(Activation::Sigmoid));
//! let summary = model.summary()?;
//! println!("{summary}");
//! assert_eq!(summary.total_params(), 322_113);
//!
//! model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
//! let config = FitConfig {
//!     epochs: 3,
//!     batch_size: 32,
//!     validation_data: Some((x_valid.into_dyn(), y_valid.into_dyn())),
//!     verbose: 0,
//!     ..FitConfig::default()
//! };
//! let history = model.fit(&x_train, &y_train, &config)?;
//! assert_eq!(history.keys().collect::<Vec<_>>(), ["loss", "accuracy", "val_loss", "val_accuracy"]);
//!
//! let scores = model.evaluate(&x_test, &y_test)?;
//! println!("loss = {}", scores.loss);
//! println!("acc = {:?}", scores.metric("accuracy"));
//! # Ok(())
//! # }
//! ```
//!
//! And the many-to-many variant, whose `Dense` layer reads all 500 states
//! (500 · 32 + 1 = 16,001 weights):
//!
//! ```
//! use rnnkit::prelude::*;
//!
//! # fn main() -> rnnkit::Result<()> {
//! let mut model = Sequential::new();
//! model.add(Embedding::new(10_000, 32).input_length(500));
//! model.add(SimpleRnn::new(32).return_sequences(true)); // (None, 500, 32)
//! model.add(Flatten::new()); // (None, 16000)
//! model.add(Dense::new(1).activation(Activation::Sigmoid));
//! let summary = model.summary()?;
//! assert_eq!(summary.layers()[1].output_shape, [500, 32]);
//! assert_eq!(summary.layers()[3].params, 16_001);
//! assert_eq!(summary.total_params(), 338_081);
//! # Ok(())
//! # }
//! ```
//!
//! # Layers, optimizers, losses and data
//!
//! | Keras | rnnkit |
//! |---|---|
//! | `Embedding(input_dim, output_dim, mask_zero=False)` | [`Embedding::new(input_dim, output_dim)`](crate::layers::Embedding) `.mask_zero(false)` |
//! | `keras.Input(shape=(None,))`: sequences of any length, `(None, None, 32)` in the summary | `Embedding::new(10_000, 32)` without `input_length` (or `model.build(&[NONE])`, [`NONE`](crate::layers::NONE)); `fit`, `evaluate`, `predict` and `train_on_batch` take any length per call |
//! | `tf.data` `padded_batch` / `bucket_by_sequence_length(...)`, then `model.fit(dataset, validation_data=val)` | [`RaggedSequences::new(ids, labels)?`](crate::data::RaggedSequences) `.batch_size(32).bucket_boundaries(vec![..])`, then [`model.fit_ragged(&train, Some(&val), &config)?`](crate::model::Sequential::fit_ragged), `evaluate_ragged` (with callbacks: `training::fit` on `train.source(seed)?`) |
//! | `SimpleRNN(units, activation='tanh', use_bias=True, return_sequences=False, go_backwards=False)` | [`SimpleRnn::new(units)`](crate::layers::SimpleRnn) `.activation(Activation::Tanh).use_bias(true).return_sequences(false).go_backwards(false)` |
//! | `Dense(units, activation=None, use_bias=True)` | [`Dense::new(units)`](crate::layers::Dense) `.activation(Activation::Linear).use_bias(true)` |
//! | `LSTM(units)`, `GRU(units)` | [`Lstm::new(units)`](crate::layers::Lstm), [`Gru::new(units)`](crate::layers::Gru), with the same setters as `SimpleRnn` |
//! | `Bidirectional(LSTM(units), merge_mode='concat')` | [`Bidirectional::new(Lstm::new(units))`](crate::layers::Bidirectional) `.merge_mode(MergeMode::Concat)` |
//! | `Dropout(rate)` | [`Dropout::new(rate)`](crate::layers::Dropout) |
//! | `SimpleRNN(units, dropout=0.2, recurrent_dropout=0.2, seed=7)` (also `LSTM`, `GRU`) | `SimpleRnn::new(units).dropout(0.2).recurrent_dropout(0.2).seed(7)`: Keras 3's masks, one per sample and batch for every step, one per gate once the state is dropped |
//! | `Flatten()` | [`Flatten::new()`](crate::layers::Flatten) |
//! | `Masking(mask_value=0.0)` | [`Masking::new(0.0)`](crate::layers::Masking) |
//! | `layer.trainable = False` | `.trainable(false)` when adding it |
//! | `keras.Sequential([Embedding(...), LSTM(32), Dense(1)])` | [`Sequential::from_layers(vec![Box::new(Embedding::new(..)), Box::new(Lstm::new(32)), Box::new(Dense::new(1))])`](crate::model::Sequential::from_layers) |
//! | `model.layers`, `model.get_layer("lstm")`, `model.pop()` | [`model.layers()`](crate::model::Sequential::layers) (and `layers_mut()`), [`model.get_layer("lstm")?`](crate::model::Sequential::get_layer) (and `get_layer_mut`), [`model.pop()?`](crate::model::Sequential::pop) |
//! | `layer.get_weights()`, `layer.set_weights(w)` | `layer.get_weights()`, `layer.set_weights(w)?` ([`LayerExt`](crate::layers::LayerExt)) |
//! | `model.get_layer("lstm").trainable = False`, then `compile` | `model.get_layer_mut("lstm")?.set_trainable(false)`, then `compile`: as in Keras, freezing or unfreezing takes effect at the next `compile` |
//! | `model.save_weights(path)`, `model.load_weights(path)` | the same names, safetensors files written atomically |
//! | `model.save("m.keras")`, `keras.models.load_model("m.keras")` | [`model.save("m.safetensors")?`](crate::model::Sequential::save), [`Sequential::load("m.safetensors")?`](crate::model::Sequential::load): architecture, weights, compile settings and optimizer state in one safetensors file; resumed training is bit-identical to uninterrupted training |
//! | `model.to_json()`, `keras.models.model_from_json(json)` | [`model.to_json()?`](crate::model::Sequential::to_json), [`Sequential::from_json(&json)?`](crate::model::Sequential::from_json): Keras-style `{"class_name", "config"}` per layer |
//! | `callbacks=[EarlyStopping(...), ModelCheckpoint(...), TerminateOnNaN()]` | `model.fit_with_callbacks(&x, &y, &config, &mut [&mut early_stopping, ...])` |
//! | `SGD(learning_rate=0.01, momentum=0.0, nesterov=False)` | [`Sgd::new(0.01)`](crate::optimizers::Sgd) `.momentum(0.0).nesterov(false)` |
//! | `RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7)` | [`RmsProp::new(0.001)`](crate::optimizers::RmsProp) `.rho(0.9).momentum(0.0).epsilon(1e-7)` |
//! | `Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)` | [`Adam::new(0.001)`](crate::optimizers::Adam) `.beta_1(0.9).beta_2(0.999).epsilon(1e-7)` |
//! | `clipnorm=1.0`, `clipvalue=0.5`, `global_clipnorm=1.0` | `.clipping(Clipping { clipnorm: Some(1.0), ..Clipping::default() })` ([`Clipping`](crate::optimizers::Clipping)) |
//! | `'binary_crossentropy'`, `'categorical_crossentropy'`, `'sparse_categorical_crossentropy'`, `'mse'` | [`Loss`](crate::losses::Loss)`::BinaryCrossentropy`, `CategoricalCrossentropy`, `SparseCategoricalCrossentropy`, `MeanSquaredError` |
//! | `metrics=['accuracy']` (or `['acc']`) | `&[Metric::Accuracy]` ([`Metric`](crate::metrics::Metric)) |
//! | `validation_split=0.2`, `shuffle=True`, `verbose=1` | [`FitConfig`](crate::model::FitConfig) `{ validation_split: 0.2, shuffle: true, verbose: 1, .. }` |
//! | `model.train_on_batch(x, y)` | `model.train_on_batch(&x, &y)?` |
//! | `BinaryAccuracy(threshold)`, `CategoricalAccuracy()`, `SparseCategoricalAccuracy()`, `TopKCategoricalAccuracy(k)`, `Precision()`, `Recall()`, `AUC(curve='ROC')`, `MeanAbsoluteError()`, `MeanSquaredError()`, `RootMeanSquaredError()` | [`Metric`](crate::metrics::Metric)`::BinaryAccuracy { threshold: 0.5 }`, `CategoricalAccuracy`, `SparseCategoricalAccuracy`, `TopKCategoricalAccuracy { k: 5 }`, `Precision { threshold: 0.5 }`, `Recall { threshold: 0.5 }`, `Auc(Auc::new())`, `MeanAbsoluteError`, `MeanSquaredError`, `RootMeanSquaredError`, logged under Keras' names (`precision`, `val_auc`) and accumulated over the epoch as Keras' stateful metrics |
//! | `'mae'`, `Huber(delta=1.0)`, `LogCosh()`, `BinaryCrossentropy(from_logits, label_smoothing)`, `CategoricalCrossentropy(from_logits, label_smoothing)`, `BinaryFocalCrossentropy(alpha, gamma)` | `Loss::MeanAbsoluteError`, `Loss::Huber { delta: 1.0 }`, `Loss::LogCosh`, `Loss::BinaryCrossentropyWith { from_logits, label_smoothing }`, `Loss::CategoricalCrossentropyWith { .. }`, `Loss::BinaryFocalCrossentropy { .. }` |
//! | `AdamW(learning_rate, weight_decay=0.004)`, `Adagrad`, `Nadam`; `weight_decay=` on the others | [`AdamW::new(0.001)`](crate::optimizers::AdamW), [`Adagrad`](crate::optimizers::Adagrad), [`Nadam`](crate::optimizers::Nadam); `.weight_decay(wd)` on every optimizer |
//! | `learning_rate=ExponentialDecay(...)` (also `PiecewiseConstantDecay`, `CosineDecay`, `InverseTimeDecay`) | `Adam::new(ExponentialDecay::new(0.01, 1000, 0.9))` ([`schedules`](crate::optimizers::schedules)), evaluated at each optimizer step |
//! | `model.optimizer.learning_rate = 0.01` | [`model.optimizer_mut()`](crate::model::Sequential::optimizer_mut)`.map(|o| o.set_learning_rate(0.01))` (through [`LearningRateControl`](crate::optimizers::LearningRateControl)) |
//! | `callbacks=[ReduceLROnPlateau(monitor, factor, patience, min_delta, cooldown, min_lr), LearningRateScheduler(fn)]`; `history.history['learning_rate']` | [`ReduceLROnPlateau`](crate::callbacks::ReduceLROnPlateau), [`LearningRateScheduler::new(|epoch, lr| ..)`](crate::callbacks::LearningRateScheduler) in `fit_with_callbacks`, with Keras' messages; `history.metric("learning_rate")` |
//! | `fit(x, y, sample_weight=w)`, `fit(x, y, class_weight={0: 1.0, 1: 5.0})` | [`FitConfig`](crate::model::FitConfig) `{ sample_weight: Some(w), .. }`, `{ class_weight: Some(HashMap::from([(0, 1.0), (1, 5.0)])), .. }`; per sample, or per step for a sequence output |
//! | `evaluate(x, y, sample_weight=w)`, `train_on_batch(x, y, sample_weight=w)` | [`evaluate_weighted(&x, &y, &w, 32)?`](crate::model::Sequential::evaluate_weighted), [`train_on_batch_weighted(&x, &y, &w)?`](crate::model::Sequential::train_on_batch_weighted) |
//! | `compile(..., weighted_metrics=['accuracy'])` | [`compile_with_weighted_metrics(optimizer, loss, &metrics, &[Metric::Accuracy])?`](crate::model::Sequential::compile_with_weighted_metrics) (logged as `weighted_accuracy` when `accuracy` is taken, as Keras) |
//! | a custom `train_step` / `test_step`, `self.model` in a callback | implement [`training::Model`](crate::training::Model) and run [`training::fit`](crate::training::fit); a callback receives `&mut dyn Model` |
//! | `model.get_weights()`, `model.set_weights(w)` | `model.get_weights()`, `model.set_weights(w)?` (same order and layout) |
//! | `Tokenizer(num_words=10000)`, `fit_on_texts`, `texts_to_sequences` | [`Tokenizer::new().num_words(10_000)`](crate::text::Tokenizer), `fit_on_texts`, `texts_to_sequences` |
//! | `pad_sequences(seqs, maxlen=500)` | [`pad_sequences(&seqs, Some(500), Padding::Pre, Truncating::Pre, 0.0)?`](crate::text::pad_sequences) |
//! | `Tokenizer(char_level=True)`, `sequences_to_texts(seqs)`, `word_docs` | [`Tokenizer::new().char_level(true)`](crate::text::Tokenizer::char_level), [`sequences_to_texts(&seqs)`](crate::text::Tokenizer::sequences_to_texts), `word_docs()` |
//! | `texts_to_matrix(texts, mode='tfidf')`, `sequences_to_matrix(seqs, mode='count')` | [`texts_to_matrix(&texts, MatrixMode::Tfidf)?`](crate::text::Tokenizer::texts_to_matrix), `sequences_to_matrix(&seqs, MatrixMode::Count)?` ([`MatrixMode`](crate::text::MatrixMode): `Binary`, `Count`, `Tfidf`, `Freq`) |
//! | GloVe vectors into `embedding_matrix`, then `Embedding(10000, 100, weights=[embedding_matrix], trainable=False)` | [`WordVectors::read(path, VectorFormat::Glove)?`](crate::text::WordVectors), `.embedding_matrix(&tokenizer, 10_000)?`, then [`Embedding::new(10_000, 100).embeddings(matrix).trainable(false)`](crate::layers::Embedding::embeddings) |
//!
//! # The functional API
//!
//! What `Sequential` cannot express (two inputs, two outputs, a layer shared between branches,
//! an encoder whose result feeds a decoder) is written as in Keras: inputs, layers called on
//! symbolic tensors, and a model from inputs to outputs.
//!
//! | Keras | rnnkit |
//! |---|---|
//! | `ids = keras.Input(shape=(None,))`, `keras.Input(shape=(8,), name="title")` | [`let ids = Input::new(&[NONE]);`](crate::model::Input), `Input::named(&[8], "title")` |
//! | `h = LSTM(32)(x)` (calling a layer on a tensor) | [`let h = Lstm::new(32).call(&x)?;`](crate::model::Call::call) |
//! | `shared = Dense(4)`, then `shared(a)` and `shared(b)` | [`let shared = SharedLayer::new(Dense::new(4));`](crate::model::SharedLayer), then `shared.call(&a)?` and `shared.call(&b)?` |
//! | a layer of several inputs or outputs: `layer([a, b])` | `layer.call_multi(&[&a, &b])?` |
//! | `model = keras.Model(inputs=[a, b], outputs=[y1, y2])`, `name="m"` | [`let mut model = Functional::new(&[&a, &b], &[&y1, &y2])?.name("m");`](crate::model::Functional::new) |
//! | `model.summary()` (with "Connected to") | [`println!("{}", model.summary()?);`](crate::model::Functional::summary) |
//! | `model.fit([xa, xb], [y1, y2])`, `evaluate`, `predict`, `train_on_batch` | `model.fit(&[xa.view(), xb.view()], &[y1.view(), y2.view()], &config)?` and the others, with lists of array views |
//! | `compile(loss="mse", metrics=[["mae"], ["mae"]])` on two outputs; logs `loss`, `dense_1_loss`, `dense_1_mae`, ... | `compile(optimizer, Loss::MeanSquaredError, &[Metric::MeanAbsoluteError])?`: the loss is applied to each output and summed, each metric computed per output, with Keras' log names |
//! | `model.get_layer("dense")`, `keras.backend.clear_session()` | [`model.get_layer("dense")?`](crate::model::Functional::get_layer) (a [`SharedLayer`](crate::model::SharedLayer) handle), [`clear_session()`](crate::model::clear_session) |
//!
//! Keras names a layer when it is created; rnnkit names it at its first call (same numbering,
//! `dense`, `dense_1`, ..., when layers are called in the order they are created).
//!
//! ```
//! use ndarray::Array2;
//! use rnnkit::prelude::*;
//! # fn main() -> rnnkit::Result<()> {
//! let left = Input::new(&[4]);
//! let right = Input::new(&[4]);
//! let shared = SharedLayer::new(Dense::new(8).activation(Activation::Relu));
//! let a = shared.call(&left)?;
//! let b = shared.call(&right)?;
//! let score_a = Dense::new(1).activation(Activation::Sigmoid).call(&a)?;
//! let score_b = Dense::new(1).activation(Activation::Sigmoid).call(&b)?;
//! let mut model = Functional::new(&[&left, &right], &[&score_a, &score_b])?;
//! println!("{}", model.summary()?);
//! model.compile(Adam::new(0.01), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
//! let x = Array2::from_shape_fn((16, 4), |(i, j)| (i + j) as f32 / 16.0).into_dyn();
//! let y = Array2::from_shape_fn((16, 1), |(i, _)| (i % 2) as f32).into_dyn();
//! let config = FitConfig { epochs: 2, verbose: 0, ..FitConfig::default() };
//! let history = model.fit(&[x.view(), x.view()], &[y.view(), y.view()], &config)?;
//! // `loss` is the sum of the two outputs' losses, each logged as `<output layer>_loss`.
//! assert!(history.metric("dense_1_loss").is_some() && history.metric("dense_2_accuracy").is_some());
//! # Ok(())
//! # }
//! ```
//!
//! # Names and defaults that differ, and why
//!
//! | Keras | rnnkit | Why |
//! |---|---|---|
//! | Token ids are integer tensors; float ids are cast silently. | Ids are `f32`, like every model input; each must be an integer in `0..input_dim`, or `fit` / `predict` return [`Error::IdOutOfRange`](crate::Error::IdOutOfRange). | One input type keeps `Sequential` simple, and every integer below 2²⁴ is exact in `f32` ([`pad_sequences`](crate::text::pad_sequences) checks this). A fractional, negative or too large id is a bug in the data, so it is reported, never rounded or read outside the table. |
//! | With the TensorFlow backend, an `Embedding` gradient is a list of per-occurrence slices: RMSprop and Adam add the squares of the slices of an id repeated within a batch. | The gradient of the table is dense: repeated ids are summed first, then squared. | The dense gradient is the mathematical definition, and the one the JAX and PyTorch backends use; rnnkit equals them within 1e-5. The gap to the TensorFlow backend depends on the learning rate and grows with the steps: ~1e-3 on those rows after one RMSprop(0.001) step, 8.5e-3 after one Adam(0.01) step, and every weight drifts from there (1.4e-2 after three). |
//! | Inside `fit`, binary cross-entropy after a sigmoid `Dense` is computed from the logit, unclipped; called on probabilities it clips them to [1e-7, 1 − 1e-7]. | The same: inside `fit`, `evaluate` and `train_on_batch` the loss reads the last layer's logits when it ends in a sigmoid (or a softmax for the categorical losses); otherwise it clips. | Keras' numbers inside `fit` (a saturated output with logit 40 has loss 40.5, not 15.94), and the numerically stable form. |
//! | Layers are built lazily, on the first call; shapes include the batch axis `(None, 500)`. | Layers are built as soon as their input shape is known: from `Embedding::input_length`, from [`Sequential::build(&[500])`](crate::model::Sequential::build), at the first `summary` or `fit` of a model that starts with an `Embedding` (sequences of any length, `(None, None)`), or at the first `fit` otherwise (a batch of sequences `(samples, steps, features)` gives `(None, None, features)` unless a layer needs the length). Shapes given to rnnkit leave the batch axis out. | Errors in the architecture (a zero size, a rank a layer cannot take) surface where the model is written, and `summary()` works before any data is seen. Keras 3 deprecates `input_length` in favour of `keras.Input(shape=(500,))`; rnnkit keeps it as the way the lesson writes the input shape. |
//! | Weights are random unless a global seed is set; training is not bit-reproducible on CPU. | Every model has its own generator, seeded with 0 unless [`Sequential::seed`](crate::model::Sequential::seed) says otherwise, and [`FitConfig::seed`](crate::model::FitConfig::seed) fixes the shuffling. Results do not depend on the number of threads. | The same program gives the same numbers on every run, so a change in accuracy means a change in the program. |
//! | `model.summary()` prints and returns `None`; after `fit`, Keras 3 also counts the optimizer's variables (644,228 for the lesson's model). | `model.summary()?` returns a [`Summary`](crate::model::Summary): print it (Keras' table), or read `total_params()` and each layer's row. It counts the layers' weights only (322,113, the lesson's number). | A value can be tested and logged; printing stays the caller's choice. |
//! | Errors are exceptions, raised when the offending call runs. | Every fallible call returns [`Result`](crate::Result) with an [`Error`](crate::Error) whose message names the layer or argument, what was expected and what was found. Nothing panics on user input. | Rust's way, and it makes a bad shape a value the caller can handle. |
//! | `metrics=['acc']` is reported as `acc`, `val_acc`; `history.history` lists `acc`, `loss`, `val_acc`, `val_loss`. | [`Metric::Accuracy`](crate::metrics::Metric::Accuracy) is always `accuracy`; [`History::keys`](crate::model::History::keys) are `loss`, `accuracy`, `val_loss`, `val_accuracy`. | One name per metric, whatever alias the program used. |
//! | `RMSprop(lr=0.001)` (Keras 2; Keras 3 only accepts `learning_rate`). Keyword arguments with defaults. | `RmsProp::new(0.001)`: the learning rate is the one required argument; the others are setters named as Keras' arguments, starting from Keras' defaults. | One way to build each thing: `new(required)` plus Keras-named setters. |
//! | `fit(x, y, ...)` keyword arguments; `evaluate` and `predict` default to `batch_size=32`. | `fit` takes a [`FitConfig`](crate::model::FitConfig) whose `Default` holds Keras' defaults; `evaluate(&x, &y)` and `predict(&x)` use 32 too; `evaluate_batched` and `predict_batched` take another batch size. | A struct update (`..FitConfig::default()`) reads like keyword arguments and is checked by the compiler; a second method stands for the one keyword argument of `evaluate` and `predict`. |
//! | `SimpleRNN(go_backwards=True, return_sequences=True)` returns the states in reading order (last step first), and with a mask passes the mask on unreversed. | The same, quirk included. | Faithful to Keras' numbers, so that a model ported from Keras gives the same outputs; flip the sequence yourself if you need it in input order. |
//! | `pad_sequences` returns `int32` by default. | [`pad_sequences`](crate::text::pad_sequences) returns the `f32` array models take; the tokenizer's ids are `u32`. | The padded array goes straight into `fit`. |
//!
//! # Imbalanced classes and a learning rate that adapts
//!
//! Keras users reach for `class_weight` when one class is rare and for `ReduceLROnPlateau` when
//! the loss stalls. Both work together in `fit`, as in Keras
//! (`cargo run --release --example sentiment -- --imbalanced` shows what the weights change on
//! real reviews):
//!
//! ```
//! use ndarray::{Array1, Array2};
//! use rnnkit::metrics::Auc;
//! use rnnkit::prelude::*;
//! use std::collections::HashMap;
//!
//! # fn main() -> rnnkit::Result<()> {
//! // About one sample in twenty is positive.
//! let x = Array2::from_shape_fn((200, 3), |(i, j)| ((i * 7 + j * 5) % 11) as f32 / 11.0);
//! let y = Array1::from_shape_fn(200, |i| if (i * 7) % 11 < 3 && i % 5 == 0 { 1.0 } else { 0.0 });
//! let mut model = Sequential::new();
//! model.add(Dense::new(1).activation(Activation::Sigmoid));
//! model.compile(
//!     RmsProp::new(0.01),
//!     Loss::BinaryCrossentropy,
//!     &[Metric::Precision { threshold: 0.5 }, Metric::Recall { threshold: 0.5 }, Metric::Auc(Auc::new())],
//! )?;
//! // model.fit(x, y, class_weight={0: 0.6, 1: 2.5}, validation_split=0.2,
//! //           callbacks=[ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)])
//! let config = FitConfig {
//!     epochs: 10,
//!     validation_split: 0.2,
//!     verbose: 0,
//!     class_weight: Some(HashMap::from([(0, 0.6), (1, 2.5)])),
//!     ..FitConfig::default()
//! };
//! let mut reduce = ReduceLROnPlateau::new().monitor("val_loss").factor(0.5).patience(2);
//! let history = model.fit_with_callbacks(&x, &y, &config, &mut [&mut reduce])?;
//! // history.history["learning_rate"]: the rate of each epoch.
//! assert_eq!(history.metric("learning_rate").map(<[f32]>::len), Some(10));
//! assert!(history.metric("val_recall").is_some());
//! println!("{:?}", reduce.messages());
//! # Ok(())
//! # }
//! ```
//!
//! # Learning curves
//!
//! Keras users plot `history.history` with matplotlib. In rnnkit,
//! [`History::plot_svg`](crate::model::History::plot_svg) writes the same chart (loss and
//! accuracy by epoch, training and validation) as an SVG file, and
//! [`History::save_csv`](crate::model::History::save_csv) writes the numbers;
//! `cargo run --release --example sentiment -- --plot curves.svg` does it for the lesson.
