// A WordPiece vocabulary learned from the texts an encoder is pretrained on, for when the
// training config names no vocab.txt: a server (or its container image) can then pretrain an
// encoder from nothing but its texts.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace textclf::encoder {

// What the learned vocabulary holds, in this order: the five special tokens; every character
// seen (as a word start and as a "##" continuation), most frequent first, at most an eighth of
// `size`; then the most frequent words (seen at least twice), up to three quarters of what is
// left; then the most frequent word starts and "##" endings (2 to 8 characters) of the words
// left out, so that rare words split into a few pieces rather than characters; then more words
// if pieces run out. Words are the uncased BERT tokenizer's basic tokens, so the vocabulary
// tokenizes exactly as a BERT vocab.txt does. Ties break alphabetically: the same texts give
// the same file. The result is a vocab.txt (one token per line) of at most `size` tokens
// (at least the special tokens).
std::string LearnWordPieceVocabulary(std::span<const std::string> texts, int32_t size);

}  // namespace textclf::encoder
