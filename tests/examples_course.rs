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
