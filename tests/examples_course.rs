//! The examples of the course's later lessons (text generation, translation, self-attention),
//! each run on a small slice of its data: what the example computes, checked where it can go
//! wrong.

use rand::rngs::StdRng;
use rand::SeedableRng;
use rnnkit::datasets::imdb;
use rnnkit::text::strip_html_breaks;
use rnnkit::training::DataSource;
use rnnkit::Result;
use std::collections::HashMap;

// The examples' code, public for their tests; each test uses part of it.
#[allow(dead_code)]
#[path = "../examples/translation/self_attention_model.rs"]
mod self_attention_model;
#[allow(dead_code)]
#[path = "../examples/translation/seq2seq.rs"]
mod seq2seq;
#[allow(dead_code)]
#[path = "../examples/translation/task.rs"]
mod task;
#[allow(dead_code)]
#[path = "../examples/text_generation.rs"]
mod text_generation;

// ---------------------------------------------------------------- text generation

#[test]
fn text_generation_windows_are_the_texts_one_hot() -> Result<()> {
    use text_generation::{Corpus, Windows, MAXLEN, STEP};
    let reviews = imdb::load(None)?.train.texts;
    let corpus = Corpus::new(&reviews, 3_000)?;
    assert_eq!(corpus.ids.len(), 3_000);
    assert_eq!(corpus.windows(), (3_000 - MAXLEN).div_ceil(STEP));
    assert!(corpus.ids.iter().all(|&id| (id as usize) < corpus.vocabulary()));
    // Lowercased, no `<br />`, one review per line.
    let text = corpus.decode(&corpus.ids);
    let first: String = strip_html_breaks(&reviews[0]).to_lowercase().chars().take(40).collect();
    assert!(text.starts_with(&first), "{first:?}");
    assert!(!text.contains("<br />") && text.contains('\n'));
    assert_eq!(text, text.to_lowercase());

    // Every window, with the character after it, as in the lesson's lists.
    let mut expected: HashMap<Vec<u32>, Vec<u32>> = HashMap::new();
    for start in (0..corpus.ids.len() - MAXLEN).step_by(STEP) {
        let window = corpus.ids[start..start + MAXLEN].to_vec();
        expected.entry(window).or_default().push(corpus.ids[start + MAXLEN]);
    }
    let mut windows = Windows::new(&corpus, 64, 3);
    let mut seen = 0;
    windows.start_epoch();
    while let Some(batch) = windows.next_batch()? {
        let (x, y) = (&batch.x[0], &batch.y[0]);
        assert_eq!(x.shape()[1..], [MAXLEN, corpus.vocabulary()]);
        assert_eq!(x.sum(), (x.shape()[0] * MAXLEN) as f32, "one 1 per step");
        assert_eq!(y.sum(), x.shape()[0] as f32, "one 1 per window");
        for (row, target) in x.outer_iter().zip(y.outer_iter()) {
            let hot =
                |v: ndarray::ArrayViewD<f32>| v.iter().position(|&a| a == 1.0).unwrap() as u32;
            let window: Vec<u32> = row.outer_iter().map(hot).collect();
            let next = expected.get_mut(&window).and_then(Vec::pop);
            assert_eq!(next, Some(hot(target)), "a window that is not the text's, or twice");
            seen += 1;
        }
    }
    assert_eq!(seen, corpus.windows());
    assert!(expected.values().all(Vec::is_empty));
    Ok(())
}

#[test]
fn text_generation_learns_and_samples_reproducibly() -> Result<()> {
    use text_generation::{generate, lesson_model, train_epoch, Corpus, Windows, MAXLEN};
    let reviews = imdb::load(None)?.train.texts;
    let corpus = Corpus::new(&reviews, 6_000)?;
    let vocabulary = corpus.vocabulary();
    let mut model = lesson_model(vocabulary, 0.01, 1)?;
    let mut windows = Windows::new(&corpus, 128, 1);
    let losses: Vec<f32> =
        (0..3).map(|_| train_epoch(&mut model, &mut windows, 0)).collect::<Result<_>>()?;
    // An untrained softmax over `vocabulary` characters scores about ln(vocabulary).
    assert!(losses[0] < (vocabulary as f32).ln(), "{losses:?}");
    assert!(losses[2] < losses[0] - 0.2, "the loss did not fall: {losses:?}");

    let seed = &corpus.ids[100..100 + MAXLEN];
    let draw = |model: &mut _, temperature, seed_value| {
        let mut rng = StdRng::seed_from_u64(seed_value);
        generate(model, vocabulary, seed, temperature, 50, &mut rng)
    };
    let cold = draw(&mut model, 0.2, 7)?;
    assert_eq!(cold.len(), 50);
    assert!(cold.iter().all(|&id| (id as usize) < vocabulary));
    assert_eq!(draw(&mut model, 0.2, 7)?, cold, "the same seed gave another sample");
    let hot = draw(&mut model, 1.0, 7)?;
    assert_ne!(hot, draw(&mut model, 1.0, 8)?, "two seeds gave the same sample at 1.0");
    assert!(generate(&mut model, vocabulary, &seed[1..], 0.5, 5, &mut StdRng::seed_from_u64(0))
        .is_err());
    Ok(())
}

// ---------------------------------------------------------------- translation

/// A small run of the dates task: 1,500 training pairs, 200 test pairs, 3 epochs.
fn small_task() -> task::TaskConfig {
    task::TaskConfig { train: 1_500, test: 200, epochs: 3, batch_size: 32, seed: 3, verbose: 0 }
}

#[test]
fn translation_inference_models_share_the_trained_layers() -> Result<()> {
    use rnnkit::datasets::dates::{iso_vocabulary, HUMAN_LENGTH, ISO_LENGTH};
    let config = small_task();
    let data = task::Data::new(&config)?;
    assert_eq!((data.train.len(), data.test.len()), (1_500, 200));
    let seen: std::collections::HashSet<&str> =
        data.train.iter().map(|p| p.human.as_str()).collect();
    assert!(
        data.test.iter().all(|p| !seen.contains(p.human.as_str())),
        "a test date was trained on"
    );

    for attention in [false, true] {
        let model_config = seq2seq::Seq2SeqConfig { embedding: 8, units: 16, attention, seed: 2 };
        let mut translator = seq2seq::Translator::new(model_config)?;
        let outcome = task::train_and_test(&mut translator, &data, &config)?;
        let losses = outcome.history.metric("loss").expect("loss is recorded");
        assert!(losses[2] < losses[0] - 0.2, "attention {attention}: {losses:?}");
        assert!(outcome.char_accuracy > 0.4, "attention {attention}: {}", outcome.char_accuracy);

        // Fed the true previous characters, the inference models give the training model's
        // probabilities: they run the very layers `fit` trained.
        let test = &data.test_arrays;
        let trained = translator.model.predict(&[
            test.encoder_input.view().into_dyn(),
            test.decoder_input.view().into_dyn(),
        ])?;
        let forced =
            translator.teacher_forced(test.encoder_input.view(), test.decoder_input.view())?;
        assert_eq!(trained[0].shape(), forced.probabilities.shape());
        let largest = trained[0]
            .iter()
            .zip(forced.probabilities.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(largest < 1e-5, "attention {attention}: probabilities differ by {largest}");

        // Greedy decoding: ten characters per date, the exact-match rate is what they give.
        let iso = iso_vocabulary();
        assert_eq!(outcome.decoded.ids.dim(), (200, ISO_LENGTH));
        assert!(outcome.translations.iter().all(|t| t.chars().count() <= ISO_LENGTH));
        let right =
            data.test.iter().zip(&outcome.translations).filter(|(p, t)| p.iso == **t).count();
        assert_eq!(outcome.exact_match, right as f64 / 200.0);
        let first = outcome.decoded.ids.row(0);
        assert_eq!(outcome.translations[0], iso.decode(first.iter().copied()));

        match &outcome.decoded.attention {
            Some(weights) => {
                assert!(attention);
                assert_eq!(weights.dim(), (200, ISO_LENGTH, HUMAN_LENGTH));
                for row in weights.rows() {
                    assert!((row.sum() - 1.0).abs() < 1e-4, "weights sum to {}", row.sum());
                }
                let dir =
                    std::env::temp_dir().join(format!("rnnkit-course-{}", std::process::id()));
                let paths = task::draw_heatmaps(&dir, &data.test, &outcome, weights, 2)?;
                assert_eq!(paths.len(), 2);
                for (path, pair) in paths.iter().zip(&data.test) {
                    let svg =
                        std::fs::read_to_string(path).map_err(|e| rnnkit::Error::io(path, e))?;
                    // A cell (a 22-pixel square) per output step and input character.
                    let cells = svg.matches("width=\"22\" height=\"22\"").count();
                    assert_eq!(cells, ISO_LENGTH * pair.human.chars().count(), "{}", pair.human);
                }
                std::fs::remove_dir_all(&dir).map_err(|e| rnnkit::Error::io(&dir, e))?;
            }
            None => assert!(!attention),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- self-attention

#[test]
fn self_attention_learns_and_decodes_without_seeing_later_characters() -> Result<()> {
    use rnnkit::datasets::dates::{iso_vocabulary, ISO_LENGTH, START};
    use self_attention_model::{SelfAttentionConfig, SelfAttentionTranslator};
    use task::Translation;
    let config = small_task();
    let data = task::Data::new(&config)?;
    let mut translator =
        SelfAttentionTranslator::new(SelfAttentionConfig { dim: 16, heads: 2, seed: 2 })?;
    assert!(
        SelfAttentionTranslator::new(SelfAttentionConfig { dim: 15, heads: 2, seed: 2 }).is_err()
    );
    let outcome = task::train_and_test(&mut translator, &data, &config)?;
    let losses = outcome.history.metric("loss").expect("loss is recorded");
    assert!(losses[2] < losses[0] - 0.2, "{losses:?}");
    assert!(outcome.char_accuracy > 0.4, "{}", outcome.char_accuracy);

    // The last pass of greedy decoding sees every chosen character; with the causal mask its
    // probabilities still choose, at each step, the character chosen when that step was run.
    let decoded = &outcome.decoded;
    assert_eq!(decoded.probabilities.dim().0, 200);
    for (ids, probabilities) in decoded.ids.outer_iter().zip(decoded.probabilities.outer_iter()) {
        for (step, row) in probabilities.outer_iter().enumerate() {
            assert_eq!(seq2seq::argmax(row.iter().copied()) as u32, ids[step]);
        }
    }
    // The model run on the decoder input START + the chosen characters gives those
    // probabilities again.
    let start = iso_vocabulary().id(START).unwrap() as f32;
    let mut arrays = data.test_arrays.clone();
    for (mut row, ids) in arrays.decoder_input.outer_iter_mut().zip(decoded.ids.outer_iter()) {
        row[0] = start;
        for step in 1..ISO_LENGTH {
            row[step] = ids[step - 1] as f32;
        }
    }
    let inputs = translator.inputs(&arrays);
    let views: Vec<_> = inputs.iter().map(|a| a.view()).collect();
    let again = translator.model().predict(&views)?.remove(0);
    let largest = again
        .iter()
        .zip(decoded.probabilities.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(largest < 1e-5, "probabilities differ by {largest}");
    Ok(())
}
